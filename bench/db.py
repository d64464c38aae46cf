"""Which database the harness works on, and the guard that keeps it off databases it does not own."""

from __future__ import annotations

import os
from dataclasses import dataclass

import psycopg

from bench.errors import UsageError
from project import embedded


@dataclass(frozen=True)
class Target:
    url: str
    embedded: bool

    @property
    def name(self) -> str:
        return embedded.database_name(self.url)


def configured_url() -> str | None:
    return os.environ.get("DATABASE_URL") or None


def resolve(database: str | None = None) -> Target:
    """The harness database: DATABASE_URL's server when set, else the embedded one (started if needed).

    A database the harness names (and so may create) is created and marked as owned when missing.
    """
    url = configured_url()
    if url is None:
        server = embedded.start()
        name = database or embedded.DEFAULT_DATABASE
        embedded.create_owned_database(server, name)
        return Target(embedded.with_database(server, name), embedded=True)
    name = database or embedded.database_name(url)
    try:
        embedded.create_owned_database(embedded.with_database(url, "postgres"), name)
    except psycopg.Error as exc:
        raise UsageError(f"cannot reach the server in DATABASE_URL: {first_line(exc)}") from None
    return Target(embedded.with_database(url, name), embedded=False)


def guard(target: Target, *, allow_foreign: bool) -> None:
    """Refuse destructive work on a database the harness did not create."""
    if allow_foreign:
        return
    try:
        owned = embedded.is_owned(target.url)
    except psycopg.Error as exc:
        raise UsageError(f"cannot connect to database {target.name!r}: {first_line(exc)}") from None
    if not owned:
        raise UsageError(
            f"refusing to touch database {target.name!r}: the harness did not create it and it may hold "
            "data you want; point DATABASE_URL at a database name that does not exist yet (the harness "
            "creates and marks it), or pass --allow-foreign-database if this one may be migrated and wiped"
        )


def setup_django(target: Target) -> None:
    """Point Django at target and set it up; the project's settings read DATABASE_URL."""
    os.environ["DATABASE_URL"] = target.url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")
    import django

    django.setup()


def first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
