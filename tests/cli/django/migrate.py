"""Creates a database with Django's own migrate.

    python3 migrate.py ENGINE NAME [HOST PORT USER] [--time-zone ZONE [--fill-around-cutoff]]

ENGINE is sqlite3 or postgresql. Django's apps (auth, admin, contenttypes, sessions) come from
their migrations; the chat app beside this file has none, so --run-syncdb creates its tables
as Django would.

--time-zone makes it a project with USE_TZ = False and TIME_ZONE = ZONE: Django then stores
naive wall-clock times of that zone. --fill-around-cutoff writes, through the ORM, one user
and eight conversations (one message each) created 30 days ago give or take 30, 90, 180 and
300 minutes, titled with that offset in minutes ("-90" is older than 30 days), and eight
never-activated users who joined 7 days ago give or take the same, named "u-90" and so on.
"""
import argparse
import os
import sys
import time
from datetime import timedelta

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.dont_write_bytecode = True

import django  # noqa: E402
from django.conf import settings  # noqa: E402

parser = argparse.ArgumentParser()
parser.add_argument("engine")
parser.add_argument("name")
parser.add_argument("server", nargs="*", help="HOST PORT USER")
parser.add_argument("--time-zone")
parser.add_argument("--fill-around-cutoff", action="store_true")
args = parser.parse_args()

database = {"ENGINE": "django.db.backends." + args.engine, "NAME": args.name}
if args.server:
    host, port, user = args.server
    database.update(HOST=host, PORT=port, USER=user)
zone = {"USE_TZ": False, "TIME_ZONE": args.time_zone} if args.time_zone else {"USE_TZ": True}
if args.time_zone:
    # What Django does for a project's settings module (settings.configure() does not): the
    # process's local time becomes TIME_ZONE's.
    os.environ["TZ"] = args.time_zone
    time.tzset()
settings.configure(
    INSTALLED_APPS=["django.contrib.contenttypes", "django.contrib.auth", "django.contrib.admin",
                    "django.contrib.sessions", "django.contrib.messages", "chat"],
    DATABASES={"default": database},
    MIGRATION_MODULES={"chat": None},
    SECRET_KEY="housekeep-test-only",
    DEFAULT_AUTO_FIELD="django.db.models.AutoField",
    **zone,
)
django.setup()

from django.core.management import call_command  # noqa: E402

# Django's own apps first: syncdb creates the chat tables before running migrations, and on
# PostgreSQL their foreign keys need auth_user to exist already.
call_command("migrate", verbosity=0)
call_command("migrate", run_syncdb=True, verbosity=0)

if args.fill_around_cutoff:
    from django.contrib.auth.models import User  # noqa: E402
    from django.utils import timezone  # noqa: E402

    from chat.models import Conversation, Message  # noqa: E402

    # With USE_TZ = False, timezone.now() is the naive wall-clock time in TIME_ZONE: what the
    # application would have stored.
    now = timezone.now()
    owner = User.objects.create(username="owner", is_active=True)
    for minutes in (-300, -180, -90, -30, 30, 90, 180, 300):
        created = now - timedelta(days=30) + timedelta(minutes=minutes)
        conversation = Conversation.objects.create(owner=owner, title=str(minutes), created=created)
        Message.objects.create(conversation=conversation, sent=created, content="hello")
        joined = now - timedelta(days=7) + timedelta(minutes=minutes)
        User.objects.create(username="u%d" % minutes, is_active=False, date_joined=joined)
