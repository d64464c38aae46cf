"""Which database the harness works on, and the guard that keeps it off databases it does not own."""

from __future__ import annotations

import os
import sys
import urllib.parse
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from django_index_bench.bench.config import ConfigError, ProjectConfig
from django_index_bench.bench.errors import UsageError
from django_index_bench.bench.pg import server as embedded

MAX_NAME_BYTES = 63  # PostgreSQL's NAMEDATALEN - 1


@dataclass(frozen=True)
class Target:
    url: str
    embedded: bool

    @property
    def name(self) -> str:
        return embedded.database_name(self.url)


def configured_url() -> str | None:
    return os.environ.get("DATABASE_URL") or None


def resolve(database: str | None = None, *, create: bool = True) -> Target:
    """The harness database: DATABASE_URL's server when set, else the embedded one (started if needed).

    A database the harness names (and so may create) is created and marked as owned when missing;
    with create=False it must exist already.
    """
    url = configured_url()
    embedded_server = url is None
    server = embedded.start() if url is None else embedded.with_database(url, "postgres")
    name = database or (embedded.DEFAULT_DATABASE if url is None else embedded.database_name(url))
    if not name or len(name.encode()) > MAX_NAME_BYTES:
        # PostgreSQL would cut a longer name short: another database than the one named, or none at all.
        size = len(name.encode())
        raise UsageError(f"database name {name!r}: expected 1 to {MAX_NAME_BYTES} bytes, got {size}")
    try:
        reap(server)
        if create:
            embedded.create_owned_database(server, name)
        elif not _exists(server, name):
            raise UsageError(
                f"database {name!r} does not exist on the server; --no-seed measures an existing one"
            )
    except psycopg.Error as exc:
        raise UsageError(f"cannot reach the server in DATABASE_URL: {first_line(exc)}") from None
    return Target(embedded.with_database(url or server, name), embedded=embedded_server)


def _exists(server: str, name: str) -> bool:
    with psycopg.connect(server, autocommit=True) as conn:
        return conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is not None


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


def setup_django(target: Target, project: ProjectConfig) -> None:
    """Put the project on sys.path, point Django at target with the project's settings, and set it up.

    The settings may read DATABASE_URL (the sample's do) or name a database of their own: either way,
    the connection settings are then replaced by target's, read by libpq's rules (django_settings).
    """
    for folder in reversed(project.pythonpath):
        if str(folder) not in sys.path:
            sys.path.insert(0, str(folder))
    os.environ["DATABASE_URL"] = target.url
    os.environ["DJANGO_SETTINGS_MODULE"] = project.settings
    import django
    from django.db import connections

    try:
        django.setup()
    except Exception as exc:  # the user's settings or apps: one line, naming the file that says which
        raise ConfigError(
            f"{project.path}: settings {project.settings!r}: {type(exc).__name__}: {first_line(exc)}"
        ) from None
    connections["default"].settings_dict.update(django_settings(target.url))


REDACTED = embedded.REDACTED


def redacted(url: str) -> str:
    """The URL to show a person: its password (in the URI or as a parameter) replaced by REDACTED.
    `bench db url` prints it whole, on purpose; everything else shows it this way."""
    try:
        params = conninfo_to_dict(url)
    except psycopg.ProgrammingError:
        return embedded.scrub(url)  # libpq cannot read it: redact whatever looks like a password
    if "password" not in params:
        return url
    if "://" not in url:
        return make_conninfo("", **{**params, "password": REDACTED})
    parts = urllib.parse.urlsplit(url)
    query = urllib.parse.parse_qsl(parts.query, keep_blank_values=True)
    netloc = parts.netloc
    if parts.password is not None:
        user, _, host = netloc.rpartition("@")
        netloc = f"{user.partition(':')[0]}:{REDACTED}@{host}"
    kept = urllib.parse.urlencode([(k, REDACTED if k == "password" else v) for k, v in query], safe="/%*")
    return urllib.parse.urlunsplit(parts._replace(netloc=netloc, query=kept))


def first_line(exc: BaseException) -> str:
    """The first line of an error, as shown to a person: never with a password it quoted."""
    text = str(exc).strip()
    return embedded.scrub(text.splitlines()[0]) if text else type(exc).__name__


def switch_django(target: Target) -> None:
    """Point the already set-up Django at another database (the costs copy, a scale's database).

    The settings dict is shared by every thread's connection, so updating it in place moves them all.
    """
    from django.db import connections

    connection = connections["default"]
    connection.close()
    connection.settings_dict.update(django_settings(target.url))
    os.environ["DATABASE_URL"] = target.url


def reap(server_url: str) -> list[embedded.Leftover]:
    """Drop the transient databases whose owner process is gone (a run killed with -9, a CI runner
    stopped), saying so on stderr; the ones it cannot drop stay listed by `bench db status`."""
    reaped = []
    for left in embedded.transient(server_url):
        if not left.gone:
            continue
        try:
            drop_owned_database(server_url, left.name)
        except (psycopg.Error, UsageError) as exc:
            print(f"bench: could not drop leftover database {left.name}: {first_line(exc)}", file=sys.stderr)
            continue
        print(
            f"bench: dropped database {left.name}, left by run {left.run_tag or '?'} "
            f"(pid {left.pid}, no longer running)",
            file=sys.stderr,
        )
        reaped.append(left)
    return reaped


def drop_owned_database(server_url: str, name: str) -> None:
    """Drop a database, but only one the harness marked as its own."""
    url = embedded.with_database(server_url, name)
    with psycopg.connect(server_url, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            return
    if not embedded.is_owned(url):
        raise UsageError(f"refusing to drop database {name!r}: the harness did not create it")
    with embedded.registry(server_url) as conn:
        conn.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))
        embedded.forget(conn, name)


def reset(target: Target) -> None:
    """Start the harness's database over: dropped and created empty, with the harness's mark. Only a
    database the harness created; nobody may be connected (close Django's connection first)."""
    server = embedded.with_database(target.url, "postgres")
    drop_owned_database(server, target.name)
    embedded.create_owned_database(server, target.name)
