"""The project's settings, with the test-only URLconf."""

from __future__ import annotations

from project.settings import *  # noqa: F403

ROOT_URLCONF = "tests.load_app.urls"
