"""The demo's tables as a Django project maps them (housekeep demo creates them)."""
from django.db import models


class User(models.Model):
    username = models.TextField(unique=True)
    email = models.TextField()
    is_active = models.BooleanField(default=False)
    date_joined = models.DateTimeField()

    class Meta:
        db_table = "users"
        managed = False


class Conversation(models.Model):
    user = models.ForeignKey(User, on_delete=models.CASCADE)
    title = models.TextField()
    created_at = models.DateTimeField()

    class Meta:
        db_table = "conversations"
        managed = False


class Message(models.Model):
    # The demo keeps orphans (conversations deleted without cascading): no constraint here.
    conversation = models.ForeignKey(Conversation, null=True, on_delete=models.CASCADE, db_constraint=False)
    role = models.TextField()
    content = models.TextField()
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField(null=True)

    class Meta:
        db_table = "messages"
        managed = False
