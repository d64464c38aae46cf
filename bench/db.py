"""Which database the harness works on, and the guard that keeps it off databases it does not own."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import sql

from bench import server as embedded
from bench.errors import UsageError


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


def django_settings(url: str) -> dict[str, Any]:
    """Django's DATABASES entry for a libpq URL or key=value string, read the way libpq reads it.

    Every parameter that is not a name, user, password, host or port (sslmode, ?host= lists, options,
    application_name ...) goes to OPTIONS, which Django hands to psycopg as it is.
    """
    params = embedded.conninfo(url)
    # With a service and no dbname, the service file names the database: leave NAME to it.
    named = "dbname" in params or "service" not in params
    params.pop("dbname", None)
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": embedded.database_name(url) if named else "",
        "USER": params.pop("user", ""),
        "PASSWORD": params.pop("password", ""),
        "HOST": params.pop("host", ""),
        "PORT": params.pop("port", ""),
        "OPTIONS": params,
    }


def setup_django(target: Target) -> None:
    """Point Django at target and set it up; the project's settings read DATABASE_URL.

    The connection settings are then read again by libpq's rules (django_settings), so a form the
    settings' URL parser reads only in part (?host=/socket/dir) still gives Django its HOST.
    """
    os.environ["DATABASE_URL"] = target.url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")
    import django
    from django.db import connections

    django.setup()
    connections["default"].settings_dict.update(django_settings(target.url))


def first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def switch_django(target: Target) -> None:
    """Point the already set-up Django at another database (the costs copy, a scale's database).

    The settings dict is shared by every thread's connection, so updating it in place moves them all.
    """
    from django.db import connections

    connection = connections["default"]
    connection.close()
    connection.settings_dict.update(django_settings(target.url))
    os.environ["DATABASE_URL"] = target.url


def drop_owned_database(server_url: str, name: str) -> None:
    """Drop a database, but only one the harness marked as its own."""
    url = embedded.with_database(server_url, name)
    with psycopg.connect(server_url, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            return
    if not embedded.is_owned(url):
        raise UsageError(f"refusing to drop database {name!r}: the harness did not create it")
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))
