"""Creates a database with Django's own migrate: python3 migrate.py ENGINE NAME [HOST PORT USER].

ENGINE is sqlite3 or postgresql. Django's apps (auth, admin, contenttypes, sessions) come from
their migrations; the chat app beside this file has none, so --run-syncdb creates its tables
as Django would.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.dont_write_bytecode = True

import django  # noqa: E402
from django.conf import settings  # noqa: E402

engine, name = sys.argv[1], sys.argv[2]
database = {"ENGINE": "django.db.backends." + engine, "NAME": name}
if len(sys.argv) > 3:
    database.update(HOST=sys.argv[3], PORT=sys.argv[4], USER=sys.argv[5])
settings.configure(
    INSTALLED_APPS=["django.contrib.contenttypes", "django.contrib.auth", "django.contrib.admin",
                    "django.contrib.sessions", "django.contrib.messages", "chat"],
    DATABASES={"default": database},
    MIGRATION_MODULES={"chat": None},
    USE_TZ=True,
    SECRET_KEY="housekeep-test-only",
    DEFAULT_AUTO_FIELD="django.db.models.AutoField",
)
django.setup()

from django.core.management import call_command  # noqa: E402

# Django's own apps first: syncdb creates the chat tables before running migrations, and on
# PostgreSQL their foreign keys need auth_user to exist already.
call_command("migrate", verbosity=0)
call_command("migrate", run_syncdb=True, verbosity=0)
