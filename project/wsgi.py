"""The WSGI entry point, as a production server (gunicorn) loads it: `gunicorn project.wsgi:application`.

The settings module comes from DJANGO_SETTINGS_MODULE (default project.settings), the database from
DATABASE_URL, as for every other entry point.
"""

from __future__ import annotations

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")

application = get_wsgi_application()
