"""Seed any Django models from a declarative plan: a TOML file of models, row counts and distributions.

    locale = "en_US"                # Faker's locale for text (optional)

    [profiles]                      # scale factors on every model's rows (rounded, at least 1 row)
    tiny = 0.001
    small = 0.1
    default = 1.0

    [models."catalog.Author"]       # app_label.ModelName
    rows = 5_000
    fields.name = { faker = "name" }

    [models."catalog.Book"]
    rows = 1_000_000
    fields.author = { skew = 1.1 }
    fields.genre = { choices = { fiction = 6, history = 3, poetry = 1 } }
    fields.published = { start = 2024-01-01, end = 2026-01-01, growth = 2.0, daily = "office" }
    fields.added = { start = 2024-01-01, end = 2026-01-01, weekly = "workweek", sorted = true }
    fields.subtitle = { faker = "sentence", args = { nb_words = 4 }, null = 0.3 }
    fields.in_print = { true = 0.8 }
    fields.isbn = { faker = "isbn13" }
    fields.code = { template = "B{n:07d}" }
    fields.pages = { min = 40, max = 900 }

Use: `plan = read_plan(path)` (TOML and shapes only), `check(plan)` (against the models; Django set
up), `source(plan, profile, seed)` (a seed.source.Source), then `seed.load.ensure_seeded(url, source)`.
A profile multiplies every `rows`; no profile means the rows as written.

Models are loaded parents first (ordered by their foreign keys), with the same binary COPY as the
sample's seeder; other tables whose foreign keys point into planned tables are emptied too. Fields
are named as on the model (`author` or `author_id`). A field spec is a TOML inline table (one line)
with one kind of distribution, plus the modifiers `null` and `sorted`:

- `faker = "provider"`: text from Faker's provider (`args` = its keyword arguments). A pool of distinct
  values (`pool`, default 1000, never more than the rows) is drawn once, deterministically for the
  seed, then sampled uniformly with numpy (Faker per row would be ~100 times slower).
- `template = "P{n:06d}"`: text from a Python format string of the row number n (1, 2, ...).
- `choices = { a = 6, b = 3 }` (weights) or `choices = ["a", "b"]` (uniform): for text, integer, float or
  boolean fields; a field with Django choices accepts only those values.
- `skew = 1.1`: a foreign key; the parent of rank r (ranks shuffled over the parents) gets weight
  1 / r**skew, so 0 is uniform and 1 or more gives a few parents most children.
- `via = "author.publisher"`: a foreign key copied from the row's parent, here the publisher of the
  row's author (`author` a foreign key of this model, `publisher` one of Author's to the same model), so
  denormalised keys agree as an app keeps them.
- `start`, `end` (dates or ISO datetimes, naive = UTC; end excluded), `growth` (the rate at the end
  over the rate at the start, linear; default 1), `weekly` (7 weights from Monday, or "flat",
  "workweek"), `daily` (24 weights from midnight, or "flat", "office", "evening"): dates and datetimes.
- `true = 0.8`: a boolean's share of true.
- `min`, `max` (inclusive), `round` (decimals, floats only): integers, floats and decimals, uniform.
- `value = x`: the same value in every row, as the database stores it: a text column receives the string
  exactly as written (a pickled field's value is its stored, encoded form), never the field's to_python
  of it.
- `python = x`: the same value in every row, given as the Python value the app would assign (any TOML
  value: a string, number, boolean, date, array or table); the field's own get_db_prep_save turns it into
  what the column stores (a pickled field pickles and encodes it). A JSON field takes value (its stored
  JSON text, checked to parse) or python (a TOML value, dumped with the field's encoder).
- `from = "stopped"`, `offset = [low, high]`: derived from another field of the same model and type (a
  number, date or datetime): its value plus an offset drawn uniformly per row, in seconds for datetimes,
  days for dates, the number itself else; NULL where the other is NULL. `started = { from = "stopped",
  offset = [-7200, 0] }`: started at most two hours before it stopped, never after.
- `from = "object_pk"` without offset: a copy of another field of the same row (a foreign key's column
  too), converted to this field's type: text of a number or UUID (`object_pk = str(object_id)`), the
  number a text holds (`object_id = int(object_pk)`; the source must be a template of {n}, choices or
  a value of whole numbers, checked before seeding), another integer width.
- `network = "10.0.0.0/8"`: inet addresses uniform in the network (GenericIPAddressField), distinct
  when unique (refused when the network holds fewer addresses than rows).
- `document = { status = ["a", "b"], user = "name", score = { min = 0, max = 9 } }`: a JSON object per
  row with those keys: a list's values uniformly, a Faker provider's text, a number range (whole when
  both ends are). Also for an HStoreField (lists and providers only). A unique JSON field takes a
  `template` of {n} that gives JSON text instead (`'{{"n": {n}}}'`).
- `length = [0, 5]`, `items = [...]`: an ArrayField's arrays of that many elements, from `items` (as
  the base field stores them) or the base field's default draw; a BinaryField's random bytes of that
  many bytes. Unique: the first element is the row number (arrays of integers or text), or the first 8
  bytes are (bytea, at least 8 long).
- `span = [low, high]` with a range field's `min`/`max` (IntegerRangeField, BigIntegerRangeField) or
  `start`/`end` (DateRangeField, DateTimeRangeField): [lower, lower + span), the lower bound drawn as
  the subtype's column would be, the span uniform (seconds for datetimes, days for dates), above 0.
- A DurationField takes `min`, `max` in seconds (default 0 to a day); an inet, interval, range, hstore,
  array or decimal `value`/`python`/`choices` is encoded to the column's binary form when the plan is
  checked; a DecimalField's values are exact (their decimal text, never a float); a BinaryField's
  `value` is bytea's hex text ("\\x0a0b"), its `python` a string stored as UTF-8.
- `first = 250`, `order_by = "-stopped"`, `set = true`, `else = false`: ranked: the first 250 rows in
  the order of another field of the same model (a number, date or datetime; "-" for descending, as in
  Django's order_by; ties by row, NULLs last) get `set`, every other row `else`. The newest 250 rows by
  `stopped` succeeded, the rest did not.
- a model's `hook = "package.module:function"` (beside `rows`): a function of the project's called with the
  model's drawn rows (seed.hooks.Rows: numbers, booleans, dates and datetimes as numpy arrays), which may
  replace any of those columns before the rows are copied in; its code is part of the plan's identity.
- `null = 0.3`: the share of NULLs (only on nullable fields; `null = 1` leaves the column empty, the
  one way to keep a foreign key to a model outside the plan).
- `sorted = true`: for dates, datetimes and numbers, the values ascending by row (rows then lie in the
  table in that order, as an app that inserts over time leaves them).

Omitted fields get a default by type: auto ids 1..n; foreign keys mildly skewed (0.5) over the parent's
rows; Django choices uniform; text from a Faker provider suggested by the field (email, name, url,
slug, paragraph for TextField, words or sentences else), cut to max_length; integers 0..100 (small) or
0..10,000; floats and decimals 0..1,000; booleans half true; dates and datetimes over 2025-10-01 to
2026-10-01, flat; UUIDs random; times of day uniform. Nullable fields are not null unless `null` says
so, except a nullable foreign key to the model itself, which is left NULL. JSON: left to the database
when nullable or with a db_default, else its default or small documents; inet addresses in 10.0.0.0/8,
intervals up to a day, 16 to 64 random bytes, arrays of 0 to 5 elements, ranges of a default lower
bound and span; a field that encodes its values by code of its own (get_prep_value or
get_db_prep_value outside Django, a pickled field), an hstore and a decimal range: its default, through
that code. Any other type is refused in one line naming the table, the column and its type, unless it
is nullable or has a db_default (then left to the database).

Unique fields, unique_together and UniqueConstraint(fields=...) are respected: auto ids, templates of n
and UUIDs are distinct by construction; Faker text past its pool of distinct values gets "-<row>"
appended; integer ranges, choices, foreign keys (one-to-one) and booleans are drawn without
replacement when they have enough values, and refused otherwise. In a unique set of several fields one
field that can be distinct is made so (an omitted one first). Any mistake is one line naming the file,
the key and what is expected.

The same plan, seed and counts give byte-identical tables; each field has its own random stream, so
changing one field's spec leaves the other columns as they were. Faker and numpy versions are part of
the identity (their draws may change between versions).
"""

from __future__ import annotations

import ipaddress
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django_index_bench.seed.distributions import parse_moment
from django_index_bench.seed.inputs import SeedInputError

# Bump whenever the same plan, seed and counts would produce different rows.
PLAN_VERSION = "2"
MAX_ROWS = 500_000_000
KINDS: dict[str, tuple[str, ...]] = {
    "faker": ("faker", "pool", "args"),
    "template": ("template",),
    "choices": ("choices",),
    "fk": ("skew", "via"),
    "time": ("start", "end", "growth", "weekly", "daily"),
    "true": ("true",),
    "range": ("min", "max", "round"),
    "value": ("value",),
    "python": ("python",),
    "derived": ("from", "offset"),
    "ranked": ("first", "order_by", "set", "else"),
    "network": ("network",),
    "length": ("length", "items"),
    "document": ("document",),
}
MODIFIERS = ("null", "sorted", "span")
WEEKLY: dict[str, list[float]] = {"flat": [1.0] * 7, "workweek": [1.0, 1.0, 1.0, 1.0, 0.95, 0.45, 0.3]}
DAILY: dict[str, list[float]] = {
    "flat": [1.0] * 24,
    "office": [1, 1, 1, 1, 2, 4, 10, 18, 22, 20, 18, 16, 14, 16, 18, 18, 16, 12, 8, 5, 3, 2, 1, 1],
    "evening": [2, 1, 1, 1, 1, 2, 4, 8, 9, 6, 5, 5, 7, 6, 5, 5, 6, 9, 12, 14, 13, 10, 6, 3],
}


@dataclass(frozen=True)
class ModelPlan:
    label: str  # as written in the plan
    rows: int
    fields: dict[str, dict[str, Any]]  # field name -> normalised spec ("kind" set when one was given)
    hook: str | None = None  # "package.module:function", run on the drawn rows (seed/hooks.py)


@dataclass(frozen=True)
class SeedPlan:
    path: Path
    profiles: dict[str, float]
    models: tuple[ModelPlan, ...]
    locale: str = "en_US"

    def where(self, *keys: str) -> str:
        return f"{self.path}: {'.'.join(keys)}" if keys else str(self.path)


def model_key(label: str) -> str:
    return f'models."{label}"'


class _Shape:
    """Shape checks of one file: every failure one line naming the file and the key."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def fail(self, key: str, expected: str) -> SeedInputError:
        return SeedInputError(f"{self.path}: {key}: {expected}")

    def number(self, key: str, value: object, lo: float, hi: float, *, whole: bool = False) -> float:
        kinds = (int,) if whole else (int, float)
        if isinstance(value, bool) or not isinstance(value, kinds) or not lo <= value <= hi:
            what = "a whole number" if whole else "a number"
            raise self.fail(key, f"expected {what} from {lo:,} to {hi:,}, got {value!r}")
        return float(value)

    def weights(
        self, key: str, value: object, size: int, named: Mapping[str, Sequence[float]]
    ) -> list[float]:
        if isinstance(value, str) and value in named:
            return [float(w) for w in named[value]]
        if (
            isinstance(value, list)
            and len(value) == size
            and all(isinstance(w, int | float) and not isinstance(w, bool) and w >= 0 for w in value)
            and sum(value) > 0
        ):
            return [float(w) for w in value]
        raise self.fail(
            key, f"expected {size} weights (not all 0) or one of {', '.join(named)}, got {value!r}"
        )


def read_plan(path: Path) -> SeedPlan:
    """Parse and shape-check a plan file; no Django needed. SeedInputError (one line) on any mistake."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise SeedInputError(
            f"{path}: cannot read the seed plan ({exc.strerror or exc}); check the path"
        ) from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise SeedInputError(f"{path}: not valid TOML: {exc}") from None
    shape = _Shape(path)
    unknown = sorted(set(data) - {"profiles", "models", "locale"})
    if unknown:
        raise shape.fail(unknown[0], "unknown key; expected profiles, models, locale")
    locale = data.get("locale", "en_US")
    if not isinstance(locale, str):
        raise shape.fail("locale", f'expected a Faker locale such as "en_US", got {locale!r}')
    profiles = data.get("profiles", {})
    if not isinstance(profiles, dict):
        raise shape.fail("profiles", "expected a table of profile = scale factor")
    factors = {name: shape.number(f"profiles.{name}", v, 1e-9, 1e6) for name, v in profiles.items()}
    models = data.get("models")
    if not isinstance(models, dict) or not models:
        raise shape.fail("models", 'expected at least one [models."app_label.ModelName"] table')
    plans = tuple(_model(shape, label, spec) for label, spec in models.items())
    return SeedPlan(path=path, profiles=factors, models=plans, locale=locale)


def _model(shape: _Shape, label: str, spec: object) -> ModelPlan:
    key = model_key(label)
    if not isinstance(spec, dict):
        raise shape.fail(key, "expected a table with rows and fields")
    unknown = sorted(set(spec) - {"rows", "fields", "hook"})
    if unknown:
        raise shape.fail(f"{key}.{unknown[0]}", "unknown key; expected rows, fields, hook")
    hook = spec.get("hook")
    if hook is not None and (not isinstance(hook, str) or hook.count(":") != 1):
        raise shape.fail(f"{key}.hook", f"expected 'package.module:function', got {hook!r}")
    if "rows" not in spec:
        raise shape.fail(f"{key}.rows", "missing; expected the number of rows, e.g. rows = 10_000")
    rows = int(shape.number(f"{key}.rows", spec["rows"], 1, MAX_ROWS, whole=True))
    fields = spec.get("fields", {})
    if not isinstance(fields, dict):
        raise shape.fail(f"{key}.fields", "expected a table of field = { ... }")
    return ModelPlan(
        label, rows, {name: _field(shape, f"{key}.fields.{name}", v) for name, v in fields.items()}, hook
    )


def _field(shape: _Shape, key: str, spec: object) -> dict[str, Any]:
    expected = "; ".join(f"{kind}: {', '.join(keys)}" for kind, keys in KINDS.items())
    if not isinstance(spec, dict):
        raise shape.fail(key, f'expected a table such as {{ faker = "name" }}, got {spec!r}')
    known = {k for keys in KINDS.values() for k in keys} | set(MODIFIERS)
    unknown = sorted(set(spec) - known)
    if unknown:
        raise shape.fail(
            f"{key}.{unknown[0]}", f"unknown key; expected one kind of ({expected}) and null, sorted, span"
        )
    kinds = [kind for kind, keys in KINDS.items() if set(keys) & set(spec)]
    if len(kinds) > 1:
        raise shape.fail(key, f"mixes {' and '.join(kinds)}; give one kind of ({expected})")
    out: dict[str, Any] = {}
    if "null" in spec:
        out["null"] = shape.number(f"{key}.null", spec["null"], 0, 1)
    if "sorted" in spec:
        if not isinstance(spec["sorted"], bool):
            raise shape.fail(f"{key}.sorted", f"expected true or false, got {spec['sorted']!r}")
        out["sorted"] = spec["sorted"]
    if "span" in spec:
        out["span"] = _pair(shape, f"{key}.span", spec["span"], low_above=0)
    if kinds:
        out["kind"] = kinds[0]
        out.update(_kind(shape, key, kinds[0], spec))
    return out


def _kind(shape: _Shape, key: str, kind: str, spec: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if kind == "faker":
        if "faker" not in spec or not isinstance(spec["faker"], str) or not spec["faker"].isidentifier():
            raise shape.fail(
                f"{key}.faker", f'expected a Faker provider name such as "name", got {spec.get("faker")!r}'
            )
        out["faker"] = spec["faker"]
        out["pool"] = int(shape.number(f"{key}.pool", spec.get("pool", 1000), 1, 1_000_000, whole=True))
        if not isinstance(spec.get("args", {}), dict):
            raise shape.fail(f"{key}.args", "expected a table of the provider's keyword arguments")
        out["args"] = spec.get("args", {})
    elif kind == "template":
        template = spec["template"]
        try:
            ok = isinstance(template, str) and isinstance(template.format(n=1), str)
        except (KeyError, IndexError, ValueError):
            ok = False
        if not ok:
            raise shape.fail(
                f"{key}.template",
                f'expected a format string of the row number such as "P{{n:06d}}", got {template!r}',
            )
        out["template"] = template
    elif kind == "choices":
        out["choices"] = _choices(shape, f"{key}.choices", spec["choices"])
    elif kind == "fk":
        if "skew" in spec and "via" in spec:
            raise shape.fail(key, "give skew or via, not both")
        if "skew" in spec:
            out["skew"] = shape.number(f"{key}.skew", spec["skew"], 0, 10)
        else:
            via = spec["via"]
            if not isinstance(via, str) or len(via.split(".")) != 2 or not all(via.split(".")):
                raise shape.fail(
                    f"{key}.via", f'expected field.field such as "author.publisher", got {via!r}'
                )
            out["via"] = via
    elif kind == "time":
        for end in ("start", "end"):
            if end in spec:
                moment = parse_moment(spec[end])
                if moment is None:
                    raise shape.fail(
                        f"{key}.{end}",
                        f"expected a date or ISO datetime such as 2025-01-31, got {spec[end]!r}",
                    )
                out[end] = moment
        if "start" in out and "end" in out and out["end"] <= out["start"]:
            raise shape.fail(f"{key}.end", "expected a moment after start")
        if "growth" in spec:
            out["growth"] = shape.number(f"{key}.growth", spec["growth"], 0.001, 1000)
        if "weekly" in spec:
            out["weekly"] = shape.weights(f"{key}.weekly", spec["weekly"], 7, WEEKLY)
        if "daily" in spec:
            out["daily"] = shape.weights(f"{key}.daily", spec["daily"], 24, DAILY)
    elif kind == "true":
        out["true"] = shape.number(f"{key}.true", spec["true"], 0, 1)
    elif kind == "range":
        for end in ("min", "max"):
            if end not in spec:
                raise shape.fail(f"{key}.{end}", "missing; a range needs both min and max")
            out[end] = spec[end]
            shape.number(f"{key}.{end}", spec[end], -1e300, 1e300)
        if out["min"] > out["max"]:
            raise shape.fail(f"{key}.max", f"expected at least min ({out['min']}), got {out['max']}")
        if "round" in spec:
            out["round"] = int(shape.number(f"{key}.round", spec["round"], 0, 15, whole=True))
    elif kind == "python":
        out["python"] = spec["python"]  # any TOML value: the field's own get_db_prep_save judges it
    elif kind == "derived":
        _derived(shape, key, spec, out)
    elif kind == "network":
        out["network"] = _network(shape, f"{key}.network", spec["network"])
    elif kind == "length":
        if "length" not in spec:
            raise shape.fail(f"{key}.length", "missing; expected [shortest, longest], e.g. length = [0, 5]")
        low, high = _pair(shape, f"{key}.length", spec["length"], whole=True)
        if high > 10_000:
            raise shape.fail(f"{key}.length", f"expected at most 10,000 elements or bytes, got {high}")
        out["length"] = [int(low), int(high)]
        if "items" in spec:
            items = spec["items"]
            if not isinstance(items, list) or not items:
                raise shape.fail(f"{key}.items", f"expected a list of element values, got {items!r}")
            out["items"] = items
    elif kind == "document":
        out["document"] = _document(shape, f"{key}.document", spec["document"])
    elif kind == "ranked":
        _ranked(shape, key, spec, out)
    elif kind == "value":
        value = spec["value"]
        if not isinstance(value, str | int | float | bool) and parse_moment(value) is None:
            raise shape.fail(
                f"{key}.value", f"expected a string, number, boolean, date or datetime, got {value!r}"
            )
        out["value"] = value
    return out


def _name(shape: _Shape, key: str, value: object, example: str) -> str:
    if not isinstance(value, str) or not value.lstrip("-").isidentifier():
        raise shape.fail(key, f'expected a field name such as "{example}", got {value!r}')
    return value


def _pair(
    shape: _Shape, key: str, value: object, *, whole: bool = False, low_above: float | None = None
) -> list[float]:
    """[low, high], low <= high (and above `low_above` when given)."""
    if not isinstance(value, list) or len(value) != 2:
        raise shape.fail(key, f"expected [low, high], got {value!r}")
    low, high = (shape.number(key, v, 0 if whole else -1e15, 1e15, whole=whole) for v in value)
    if low > high:
        raise shape.fail(key, f"expected low <= high, got {value!r}")
    if low_above is not None and low <= low_above:
        raise shape.fail(key, f"expected low above {low_above:g} (an empty range repeats), got {value!r}")
    return [value[0], value[1]]


def _network(shape: _Shape, key: str, value: object) -> str:
    try:
        return str(ipaddress.ip_network(str(value), strict=False)) if isinstance(value, str) else ""
    except ValueError:
        pass
    raise shape.fail(key, f'expected a network such as "10.0.0.0/8" or "2001:db8::/32", got {value!r}')


def _document(shape: _Shape, key: str, value: object) -> dict[str, dict[str, Any]]:
    """{ status = ["open", "closed"], user = "name", score = { min = 0, max = 100 } }: per key, a list
    of values (uniform), a Faker provider or a number range."""
    if not isinstance(value, dict):
        raise shape.fail(
            key, 'expected a table of key = leaf, e.g. { status = ["open", "closed"], user = "name" }'
        )
    leaves: dict[str, dict[str, Any]] = {}
    for name, leaf in value.items():
        where = f"{key}.{name}"
        if isinstance(leaf, list) and leaf and all(isinstance(v, str | int | float | bool) for v in leaf):
            leaves[name] = {"leaf": "choices", "choices": leaf}
        elif isinstance(leaf, str) and leaf.isidentifier():
            leaves[name] = {"leaf": "faker", "faker": leaf}
        elif isinstance(leaf, dict) and set(leaf) == {"min", "max"}:
            low, high = (shape.number(where, leaf[e], -1e15, 1e15) for e in ("min", "max"))
            if low > high:
                raise shape.fail(where, f"expected min <= max, got {leaf!r}")
            leaves[name] = {"leaf": "range", "min": leaf["min"], "max": leaf["max"]}
        else:
            raise shape.fail(
                where,
                f'expected a list of values, a Faker provider such as "name" or {{ min, max }}, got {leaf!r}',
            )
    return leaves


def _derived(shape: _Shape, key: str, spec: dict[str, Any], out: dict[str, Any]) -> None:
    """{ from = "stopped", offset = [-7200, 0] }: the other field's value plus a uniform offset; without
    offset, its value as it is, or converted to this field's type (text of a number, a number of text)."""
    if "from" not in spec:
        raise shape.fail(key, 'a derived field needs from (a field), e.g. from = "stopped"')
    out["from"] = _name(shape, f"{key}.from", spec["from"], "stopped")
    if "offset" not in spec:
        return
    offset = spec["offset"]
    if not isinstance(offset, list) or len(offset) != 2:
        raise shape.fail(f"{key}.offset", f"expected [low, high], got {offset!r}")
    low, high = (shape.number(f"{key}.offset", v, -1e15, 1e15) for v in offset)
    if low > high:
        raise shape.fail(f"{key}.offset", f"expected low <= high, got {offset!r}")
    out["offset"] = [offset[0], offset[1]]


def _ranked(shape: _Shape, key: str, spec: dict[str, Any], out: dict[str, Any]) -> None:
    """{ first = 250, order_by = "-stopped", set = true, else = false }: the first rows in that order."""
    for needed in ("first", "order_by", "set", "else"):
        if needed not in spec:
            raise shape.fail(f"{key}.{needed}", "missing; a ranked field needs first, order_by, set and else")
    out["first"] = int(shape.number(f"{key}.first", spec["first"], 0, MAX_ROWS, whole=True))
    out["order_by"] = _name(shape, f"{key}.order_by", spec["order_by"], "-stopped")
    for which in ("set", "else"):
        if not isinstance(spec[which], str | int | float | bool):
            raise shape.fail(f"{key}.{which}", f"expected a string, number or boolean, got {spec[which]!r}")
        out[which] = spec[which]


def _choices(shape: _Shape, key: str, value: object) -> list[tuple[Any, float]]:
    if isinstance(value, dict) and value:
        return [(name, shape.number(f"{key}.{name}", w, 0, 1e12)) for name, w in value.items()]
    if isinstance(value, list) and value and all(isinstance(v, str | int | float | bool) for v in value):
        if len(set(map(repr, value))) < len(value):
            raise shape.fail(key, "expected distinct values")
        return [(v, 1.0) for v in value]
    raise shape.fail(key, f"expected a table of value = weight or a list of values, got {value!r}")


def check_profile(plan: SeedPlan, profile: str | None) -> None:
    """SeedInputError (one line) for a profile the plan does not define; no Django needed."""
    if profile is not None and profile not in plan.profiles:
        known = ", ".join(plan.profiles) or "none are defined; add a [profiles] table"
        raise SeedInputError(
            f"{plan.where('profiles')}: unknown profile {profile!r}; profiles of the plan: {known}"
        )
