"""The project under test, as its own repository describes it: bench.toml, or [tool.django-index-bench]
in pyproject.toml, found from the current directory upwards (or named with --config).

One settings object, built at the edge: every command reads it once, and nothing below the command
looks for files or environment variables of its own. Every error names the file, the key and what is
expected, on one line.

    settings = "mysite.settings"            # DJANGO_SETTINGS_MODULE of the project
    pythonpath = ["."]                      # put on sys.path, relative to this file (default ["."])
    scenarios = ["mysite.bench_scenarios"]  # modules whose @register classes are the scenarios
    claims = "claims.toml"                  # optional: the claims the report judges

    [seed]
    plan = "seed_plan.toml"                 # a declarative seed plan (seed/plan.py), or
    # hook = "package.module:function"      # a function (profile, seed, rows) -> seed.source.Source

    [states.before]                         # the baseline; each state may name:
    migrations = { shop = "0017" }          #   APP = MIGRATION (a unique prefix); other apps: latest
    # drop_indexes = ["shop_order_created_idx"]        then drop these indexes, or
    # create_indexes = ["CREATE INDEX ... ON ... (...)"]  create these
    [states.after]                          # the candidate (default: every app at its latest migration)

    [suggest]                               # optional: `bench suggest`'s weighing, per unit of work
    weights = { orders_by_customer = 50 }   #   calls of a scenario (default 1 each)
    writes = { shop_order = 5 }             #   rows inserted into a table (default 1 each)

    [scales]                                # optional: the scale curve (`bench run --scales`)
    tables = ["shop_order"]                 # the tables resized at each point
    scenarios = ["orders_by_customer"]      # the scenarios measured there (default: all migration ones)
"""

from __future__ import annotations

import sys
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, cast

from django_index_bench.bench.errors import UsageError

FILE_NAME = "bench.toml"
PYPROJECT = "pyproject.toml"
TOOL = "django-index-bench"
STATE_NAMES = ("before", "after")
ALLOWED = {
    "": {"settings", "pythonpath", "scenarios", "claims", "seed", "states", "scales", "load", "suggest"},
    "load": {"app", "endpoints"},
    "endpoint": {"name", "title", "kind", "baseline", "candidate", "paths", "check"},
    "seed": {"plan", "hook"},
    "state": {"migrations", "drop_indexes", "create_indexes"},
    "scales": {"tables", "scenarios", "case"},
    "suggest": {"weights", "writes"},
}


@dataclass(frozen=True)
class StateSpec:
    """A state as configured: migration targets (by prefix, resolved later), then index changes."""

    migrations: dict[str, str] = field(default_factory=dict)
    drop_indexes: tuple[str, ...] = ()
    create_indexes: tuple[str, ...] = ()


@dataclass(frozen=True)
class SeedSpec:
    plan: Path | None = None
    hook: str | None = None  # "module:function"


@dataclass(frozen=True)
class ScaleSpec:
    tables: tuple[str, ...] = ()
    scenarios: tuple[str, ...] = ()  # empty: every migration scenario
    case: str = "typical"


@dataclass(frozen=True)
class EndpointSpec:
    """An endpoint `bench load` drives: one path per side. A "variant" endpoint's two paths reach two
    code paths of one build (both in the after state); a "migration" endpoint's one path is served from
    each state's database."""

    name: str
    title: str
    kind: Literal["variant", "migration"]
    baseline: str
    candidate: str
    paths: dict[str, str]
    check: str | None = None  # "module:function" (side, body) -> why the response is wrong, or None


@dataclass(frozen=True)
class LoadSpec:
    app: str | None = None  # the project's WSGI callable, "module:callable"; None: Django's default
    endpoints: tuple[EndpointSpec, ...] = ()


@dataclass(frozen=True)
class SuggestSpec:
    """How `bench suggest` weighs reads against writes: per unit of work, calls of each scenario and
    rows inserted into each table (unnamed: 1 each)."""

    weights: dict[str, float] = field(default_factory=dict)
    writes: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class ProjectConfig:
    path: Path  # the file it was read from
    settings: str
    pythonpath: tuple[Path, ...]
    scenarios: tuple[str, ...]
    seed: SeedSpec
    before: StateSpec
    after: StateSpec
    claims: Path | None = None
    scales: ScaleSpec = field(default_factory=ScaleSpec)
    load: LoadSpec = field(default_factory=LoadSpec)
    suggest: SuggestSpec = field(default_factory=SuggestSpec)

    @property
    def root(self) -> Path:
        return self.path.parent


class ConfigError(UsageError):
    """A configuration that cannot be used; one line: the file, the key, what is expected."""


def find(start: Path) -> Path | None:
    """bench.toml, or a pyproject.toml with a [tool.django-index-bench] table, nearest above start."""
    for folder in (start, *start.parents):
        candidate = folder / FILE_NAME
        if candidate.is_file():
            return candidate
        pyproject = folder / PYPROJECT
        if pyproject.is_file() and TOOL in _read(pyproject).get("tool", {}):
            return pyproject
    return None


def load(path: Path | None = None, *, start: Path | None = None) -> ProjectConfig:
    """The configuration at path, or the one found from start (default: the current directory) up."""
    if path is None:
        found = find((start or Path.cwd()).resolve())
        if found is None:
            raise ConfigError(
                f"no {FILE_NAME} (or [tool.{TOOL}] in {PYPROJECT}) in {start or Path.cwd()} or above; "
                "write one (README: 'Measure your own project') or pass --config PATH"
            )
        path = found
    path = path.resolve()
    if not path.is_file():
        raise ConfigError(f"--config {path}: no such file")
    data = _read(path)
    if path.name == PYPROJECT:
        data = data.get("tool", {}).get(TOOL)
        if not isinstance(data, dict):
            raise ConfigError(f"{path}: no [tool.{TOOL}] table")
    project = parse(data, path)
    # The project's code (its seed hook, its endpoint checks) imports from here on, as its settings do.
    for folder in reversed(project.pythonpath):
        if str(folder) not in sys.path:
            sys.path.insert(0, str(folder))
    return project


def _read(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read it: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None


class _Reader:
    """Typed access to one table of the file, each failure naming the file and the dotted key."""

    def __init__(self, path: Path, data: Mapping[str, Any], prefix: str, kind: str) -> None:
        self.path, self.data, self.prefix = path, data, prefix
        unknown = sorted(set(data) - ALLOWED[kind])
        if unknown:
            self.fail(unknown[0], f"unknown key; expected one of {', '.join(sorted(ALLOWED[kind]))}")

    def fail(self, key: str, what: str) -> Any:
        raise ConfigError(f"{self.path}: {self.prefix}{key}: {what}")

    def text(self, key: str, default: str | None = None) -> str | None:
        value = self.data.get(key, default)
        if value is None:
            return None
        if not isinstance(value, str) or not value.strip():
            self.fail(key, f"expected a non-empty string, got {value!r}")
        return str(value)

    def texts(self, key: str, default: tuple[str, ...] = ()) -> tuple[str, ...]:
        value = self.data.get(key, list(default))
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
            self.fail(key, f"expected a list of non-empty strings, got {value!r}")
        return tuple(value)

    def table(self, key: str) -> Mapping[str, Any]:
        value = self.data.get(key, {})
        if not isinstance(value, dict):
            self.fail(key, f"expected a table, got {value!r}")
        return dict(value)

    def file(self, key: str) -> Path | None:
        text = self.text(key)
        if text is None:
            return None
        resolved = (self.path.parent / text).resolve()
        if not resolved.is_file():
            self.fail(key, f"no such file: {resolved}")
        return resolved


def parse(data: Mapping[str, Any], path: Path) -> ProjectConfig:
    top = _Reader(path, data, "", "")
    settings = top.text("settings")
    if settings is None:
        top.fail("settings", "missing; expected the project's settings module, e.g. 'mysite.settings'")
    scenarios = top.texts("scenarios")
    if not scenarios:
        top.fail("scenarios", "missing; expected the modules that register the scenarios, e.g. ['app.bench']")
    pythonpath = tuple((path.parent / p).resolve() for p in top.texts("pythonpath", (".",)))
    for folder in pythonpath:
        if not folder.is_dir():
            top.fail("pythonpath", f"no such directory: {folder}")
    states = top.table("states")
    unknown = sorted(set(states) - set(STATE_NAMES))
    if unknown:
        top.fail(f"states.{unknown[0]}", "unknown state; expected 'before' and 'after'")
    return ProjectConfig(
        path=path,
        settings=str(settings),
        pythonpath=pythonpath,
        scenarios=scenarios,
        seed=_seed(_Reader(path, top.table("seed"), "seed.", "seed")),
        before=_state(_Reader(path, _state_table(top, states, "before"), "states.before.", "state")),
        after=_state(_Reader(path, _state_table(top, states, "after"), "states.after.", "state")),
        claims=top.file("claims"),
        scales=_scales(_Reader(path, top.table("scales"), "scales.", "scales")),
        load=_load(_Reader(path, top.table("load"), "load.", "load")),
        suggest=_suggest(_Reader(path, top.table("suggest"), "suggest.", "suggest")),
    )


def _state_table(top: _Reader, states: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    value = states.get(name, {})
    if not isinstance(value, dict):
        top.fail(f"states.{name}", f"expected a table, got {value!r}")
    return dict(value)


def _seed(reader: _Reader) -> SeedSpec:
    plan, hook = reader.file("plan"), reader.text("hook")
    if plan is not None and hook is not None:
        reader.fail("plan", "expected one of seed.plan (a seed plan file) and seed.hook, not both")
    if hook is not None and hook.count(":") != 1:
        reader.fail("hook", f"expected 'package.module:function', got {hook!r}")
    return SeedSpec(plan=plan, hook=hook)


def _state(reader: _Reader) -> StateSpec:
    migrations = reader.table("migrations")
    for app, target in migrations.items():
        if not isinstance(target, str) or not target.strip():
            reader.fail(f"migrations.{app}", f"expected a migration name or prefix, got {target!r}")
    drop_indexes = reader.texts("drop_indexes")
    for i, name in enumerate(drop_indexes):
        why = index_name_problem(name)
        if why:
            reader.fail(f"drop_indexes[{i}]", f"{why}, got {name!r}")
    create_indexes = reader.texts("create_indexes")
    for i, statement in enumerate(create_indexes):
        why = create_index_problem(statement)
        if why:
            reader.fail(f"create_indexes[{i}]", why)
    for key, values in (("drop_indexes", drop_indexes), ("create_indexes", create_indexes)):
        repeated = sorted({v for v in values if values.count(v) > 1})
        if repeated:
            reader.fail(key, f"{repeated[0]!r} is given twice")
    return StateSpec(migrations=dict(migrations), drop_indexes=drop_indexes, create_indexes=create_indexes)


# PostgreSQL's NAMEDATALEN - 1: a longer name is silently truncated, so it would name another object.
MAX_NAME_BYTES = 63


def index_name_problem(name: str) -> str | None:
    """Why `name` cannot be an index name the harness drops, or None. It is quoted as an identifier
    anyway; a quote, semicolon or control character is refused so that SQL pasted here is an error
    before any work rather than an index nobody has, found after the seeding."""
    if len(name.encode()) > MAX_NAME_BYTES:
        return f"expected an index name of at most {MAX_NAME_BYTES} bytes"
    if any(c in name for c in '";') or not name.isprintable() or name != name.strip():
        return "expected an index name (no quotes, semicolons, control characters or outer spaces)"
    return None


def create_index_problem(statement: str) -> str | None:
    """Why `statement` is not exactly one CREATE [UNIQUE] INDEX statement, read by PostgreSQL's own
    parser (pglast), or None. Nothing else runs from configuration: not a second statement after a
    semicolon, not a SELECT."""
    import pglast
    from pglast import ast

    try:
        parsed = pglast.parse_sql(statement)
    except pglast.parser.ParseError as exc:
        return f"expected one CREATE [UNIQUE] INDEX statement, but PostgreSQL cannot parse it ({exc})"
    if len(parsed) == 1 and isinstance(parsed[0].stmt, ast.IndexStmt):
        return None
    kinds = [type(raw.stmt).__name__ for raw in parsed]
    got = f"a {kinds[0]}" if len(kinds) == 1 else f"{len(kinds)} statements ({', '.join(kinds)})"
    return f"expected exactly one CREATE [UNIQUE] INDEX statement, got {got}"


def _scales(reader: _Reader) -> ScaleSpec:
    return ScaleSpec(
        tables=reader.texts("tables"),
        scenarios=reader.texts("scenarios"),
        case=reader.text("case", "typical") or "typical",
    )


def _numbers(reader: _Reader, key: str) -> dict[str, float]:
    found = reader.table(key)
    for name, value in found.items():
        if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
            reader.fail(f"{key}.{name}", f"expected a number >= 0, got {value!r}")
    return {str(name): float(value) for name, value in found.items()}


def _suggest(reader: _Reader) -> SuggestSpec:
    return SuggestSpec(weights=_numbers(reader, "weights"), writes=_numbers(reader, "writes"))


def _load(reader: _Reader) -> LoadSpec:
    app = reader.text("app")
    if app is not None and ":" not in app:
        reader.fail("app", f"expected 'package.module:callable', got {app!r}")
    raw = reader.data.get("endpoints", [])
    if not isinstance(raw, list) or not all(isinstance(e, dict) for e in raw):
        reader.fail("endpoints", "expected an array of tables ([[load.endpoints]])")
    endpoints = tuple(
        _endpoint(_Reader(reader.path, e, f"load.endpoints[{i}].", "endpoint")) for i, e in enumerate(raw)
    )
    names = [e.name for e in endpoints]
    if len(set(names)) != len(names):
        reader.fail("endpoints", f"two endpoints share a name: {', '.join(sorted(names))}")
    return LoadSpec(app=app, endpoints=endpoints)


def _endpoint(reader: _Reader) -> EndpointSpec:
    name, title = reader.text("name"), reader.text("title")
    kind = reader.text("kind", "variant")
    baseline, candidate = reader.text("baseline", "before"), reader.text("candidate", "after")
    if name is None:
        reader.fail("name", "missing; expected the endpoint's name, e.g. 'orders_page'")
    if kind not in ("variant", "migration"):
        reader.fail("kind", f"expected 'variant' or 'migration', got {kind!r}")
    paths = reader.table("paths")
    well_formed = all(isinstance(p, str) and p.startswith("/") for p in paths.values())
    if set(paths) != {baseline, candidate} or not well_formed:
        reader.fail("paths", f'expected {{ {baseline} = "/path?query", {candidate} = "/path?query" }}')
    check = reader.text("check")
    if check is not None and check.count(":") != 1:
        reader.fail("check", f"expected 'package.module:function', got {check!r}")
    return EndpointSpec(
        name=str(name),
        title=title or str(name),
        kind=cast(Literal["variant", "migration"], kind),
        baseline=str(baseline),
        candidate=str(candidate),
        paths={str(k): str(v) for k, v in paths.items()},
        check=check,
    )
