"""Candidate indexes from the accesses of the captured SQL: equality columns first, then the ORDER BY
(with its directions) or a range column; a partial variant for the conditions whose value never changes;
a covering variant (INCLUDE) when the statement reads few other columns. Candidates an existing index
already serves are dropped as redundant."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from django_index_bench.bench.suggest.queries import Access
from django_index_bench.bench.suggest.results import Candidate, Dropped, ExistingIndex, Key, Predicate

# More columns than this to INCLUDE and the index is most of the table again: no covering variant.
MAX_INCLUDE = 3
# Django refuses index names longer than this (models.E034).
MAX_NAME = 30


@dataclass(frozen=True)
class Shape:
    """A candidate before it has a name: what makes two candidates the same index."""

    table: str
    keys: tuple[Key, ...]
    equal: int
    include: tuple[str, ...] = ()
    where: tuple[Predicate, ...] = ()
    why: str = ""

    def identity(self) -> tuple[object, ...]:
        """Equal for indexes that serve the same: the equality columns in any order, the rest of the keys
        in either direction (a btree scans both ways)."""
        tail = self.keys[self.equal :]
        if tail and tail[0].descending:
            tail = tuple(Key(k.column, not k.descending) for k in tail)
        equal = frozenset(k.column for k in self.keys[: self.equal])
        return self.table, equal, tail, tuple(sorted(self.include)), tuple(sorted(self.where, key=repr))


def fixed_conditions(per_case: Sequence[Iterable[tuple[str, Predicate]]]) -> set[tuple[str, Predicate]]:
    """The (table, condition) pairs that are constants of the code, not parameters: a boolean or NULL
    test, or a literal that every one of at least two cases sent alike."""
    cases = [set(found) for found in per_case]
    if not cases:
        return set()
    everywhere = set.intersection(*cases)
    return {
        (table, p) for table, p in everywhere if p.test != "=" or isinstance(p.value, bool) or len(cases) >= 2
    }


def shapes(access: Access, fixed: set[Predicate]) -> list[Shape]:
    """The candidates one access suggests, the plainest first."""
    equal = [Key(c) for c in access.equal]
    tail = list(access.order) or [Key(c) for c in access.ranges[:1]]
    tail = [k for k in tail if k.column not in access.equal]
    if not equal and not tail:
        return []
    found = [Shape(access.table, (*equal, *tail), len(equal), why=_why(equal, tail, access.order))]
    if access.order and access.ranges and access.ranges[0] not in {k.column for k in access.order}:
        ranged = [Key(access.ranges[0])]
        found.append(Shape(access.table, (*equal, *ranged), len(equal), why=_why(equal, ranged, ())))
    where = tuple(sorted(fixed, key=repr))
    if where:
        fixed_columns = {p.column for p in where}
        rest = [k for k in equal if k.column not in fixed_columns]
        if rest or tail:
            why = _why(rest, tail, access.order) + "; partial: " + " AND ".join(condition(p) for p in where)
            found.append(Shape(access.table, (*rest, *tail), len(rest), where=where, why=why))
    keyed = {k.column for k in found[0].keys}
    extra = tuple(c for c in access.columns if c not in keyed)
    if not access.star and 0 < len(extra) <= MAX_INCLUDE:
        why = found[0].why + f"; INCLUDE {', '.join(extra)} for an index-only scan"
        found.append(Shape(access.table, found[0].keys, found[0].equal, include=extra, why=why))
    return found


def _why(equal: Sequence[Key], tail: Sequence[Key], order: Sequence[Key]) -> str:
    parts = []
    if equal:
        parts.append("equality " + ", ".join(k.column for k in equal))
    if tail:
        what = "ORDER BY" if order and tail[0] in order else "range"
        parts.append(f"{what} " + ", ".join(k.sql.replace('"', "") for k in tail))
    return ", then ".join(parts)


def condition(p: Predicate) -> str:
    column = f'"{p.column}"'
    if p.test != "=":
        return f"{column} {p.test.upper()}"
    if isinstance(p.value, bool):
        return column if p.value else f"NOT {column}"
    if isinstance(p.value, str):
        return f"{column} = '{p.value.replace(chr(39), chr(39) * 2)}'"
    return f"{column} = {p.value}"


def index_name(shape: Shape) -> str:
    """A name Django accepts (30 characters at most), told apart by a hash of the whole definition."""
    digest = hashlib.sha1(repr(shape.identity()).encode()).hexdigest()[:6]
    table = shape.table.split("_", 1)[-1] if "_" in shape.table else shape.table
    body = "_".join([table, *(k.column for k in shape.keys)])
    return f"{body[: MAX_NAME - len(digest) - 1].rstrip('_')}_{digest}"


def create_sql(shape: Shape, name: str) -> str:
    sql = f'CREATE INDEX "{name}" ON "{shape.table}" ({", ".join(k.sql for k in shape.keys)})'
    if shape.include:
        sql += " INCLUDE (" + ", ".join(f'"{c}"' for c in shape.include) + ")"
    if shape.where:
        sql += " WHERE " + " AND ".join(condition(p) for p in shape.where)
    return sql


def derive(by_scenario: Mapping[str, Sequence[Sequence[Access]]]) -> list[Candidate]:
    """scenario -> its cases -> the accesses of the SQL each case sent: every distinct candidate, with the
    scenarios that suggested it, in the order they were first found."""
    found: dict[tuple[object, ...], tuple[Shape, list[str]]] = {}
    for scenario, cases in by_scenario.items():
        fixed = fixed_conditions(
            [[(a.table, p) for a in accesses for p in a.constants] for accesses in cases]
        )
        for accesses in cases:
            for access in accesses:
                mine = {p for table, p in fixed if table == access.table and p in access.constants}
                for shape in shapes(access, mine):
                    entry = found.setdefault(shape.identity(), (shape, []))
                    if scenario not in entry[1]:
                        entry[1].append(scenario)
    return [_named(shape, tuple(scenarios)) for shape, scenarios in found.values()]


def _named(shape: Shape, scenarios: tuple[str, ...]) -> Candidate:
    name = index_name(shape)
    return Candidate(
        name=name, table=shape.table, keys=shape.keys, equal=shape.equal, include=shape.include,
        where=shape.where, scenarios=scenarios, why=shape.why, sql=create_sql(shape, name),
    )  # fmt: skip


def serves(existing: ExistingIndex, candidate: Candidate) -> bool:
    """Whether the existing index already serves every query the candidate would: a btree without a
    condition whose leading keys are the candidate's equality columns (any order), then its other keys
    (all in the same or all in the opposite direction), with every INCLUDE column somewhere in it. A
    partial candidate is never redundant: it may be much smaller than any full index."""
    if existing.table != candidate.table or existing.method != "btree" or existing.predicate:
        return False
    if candidate.where or not existing.keys or len(existing.keys) < len(candidate.keys):
        return False
    n = candidate.equal
    if {k.column for k in existing.keys[:n]} != {k.column for k in candidate.keys[:n]}:
        return False
    mine, theirs = candidate.keys[n:], existing.keys[n : len(candidate.keys)]
    if [k.column for k in mine] != [k.column for k in theirs]:
        return False
    flips = {a.descending != b.descending for a, b in zip(mine, theirs, strict=True)}
    if len(flips) > 1:
        return False
    covered = {k.column for k in existing.keys} | set(existing.include)
    return set(candidate.include) <= covered


def redundant(candidates: Sequence[Candidate], existing: Sequence[ExistingIndex]) -> list[Dropped]:
    dropped = []
    for candidate in candidates:
        serving = [index.name for index in existing if serves(index, candidate)]
        if serving:
            dropped.append(Dropped(candidate.name, "redundant", serving[0]))
    return dropped
