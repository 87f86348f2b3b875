"""The peer: `run --task all`'s deletions as a Django management command would make them.

    python3 purge.py sqlite3 PATH
    python3 purge.py postgresql DBNAME HOST PORT USER

Conversations older than 30 days with their messages, orphaned messages, never-activated
users older than 7 days with their conversations and messages: three QuerySet.delete()
calls, each its own transaction, Django's collector cascading in Python.
"""
import os
import sys
from datetime import timedelta

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.dont_write_bytecode = True

import django  # noqa: E402
from django.conf import settings  # noqa: E402

engine, name = sys.argv[1], sys.argv[2]
database = {"ENGINE": "django.db.backends." + engine, "NAME": name}
if engine == "sqlite3":
    database["OPTIONS"] = {"timeout": 10}
else:
    database.update(HOST=sys.argv[3], PORT=sys.argv[4], USER=sys.argv[5])
settings.configure(
    INSTALLED_APPS=["demo_app"],
    DATABASES={"default": database},
    USE_TZ=True,
    DEFAULT_AUTO_FIELD="django.db.models.BigAutoField",
)
django.setup()

from django.db.models import Q  # noqa: E402
from django.utils import timezone  # noqa: E402

from demo_app.models import Conversation, Message, User  # noqa: E402

now = timezone.now()
deleted = {}
for what, queryset in (
    ("conversations", Conversation.objects.filter(created_at__lt=now - timedelta(days=30))),
    ("messages", Message.objects.filter(Q(conversation__isnull=True) | ~Q(conversation__in=Conversation.objects.all()))),
    ("users", User.objects.filter(is_active=False, date_joined__lt=now - timedelta(days=7))),
):
    total, per_model = queryset.delete()
    deleted[what] = per_model
print(deleted)
