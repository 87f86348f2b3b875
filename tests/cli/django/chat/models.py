# A chat application as Django projects write one: conversations owned by users, messages
# in conversations (NULL allowed), Django's own auth and admin apps beside it.
from django.conf import settings
from django.db import models


class Conversation(models.Model):
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    title = models.CharField(max_length=200)
    created = models.DateTimeField(db_index=True)


class Message(models.Model):
    conversation = models.ForeignKey(Conversation, null=True, on_delete=models.CASCADE)
    sent = models.DateTimeField(db_index=True)
    content = models.TextField()
