"""What one captured SQL statement asks of each table, read with PostgreSQL's own parser (pglast): the
columns compared with a constant for equality, the ranges, the ORDER BY, the constant conditions and the
columns it reads. Only what an index can serve is kept; anything else is simply not a candidate."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from pglast import ast, enums, parse_sql
from pglast.parser import ParseError

from django_index_bench.bench.suggest.results import Key, Predicate, Test

RANGE_OPERATORS = {"<", "<=", ">", ">=", "~~", "~~*"}  # LIKE 'abc%' is a range on a btree (C collation)


@dataclass(frozen=True)
class Access:
    """One table's part of one statement."""

    table: str
    equal: tuple[str, ...]  # compared with = or IN to constants
    ranges: tuple[str, ...]
    order: tuple[Key, ...]  # the whole ORDER BY, when every key of it is this table's column
    constants: tuple[Predicate, ...]  # conditions with a literal (or a boolean column / IS NULL)
    columns: tuple[str, ...]  # every column of the table the statement reads
    star: bool = False  # SELECT * (or table.*): every column


def accesses(sql: str) -> list[Access]:
    """Every table access of every SELECT in the statement (subqueries too); none when it does not parse
    or is not a query an index serves."""
    try:
        statements = parse_sql(sql)
    except ParseError:
        return []
    found: list[Access] = []
    for raw in statements:
        for select in _selects(raw.stmt):
            found += _of_select(select)
    return found


def _selects(node: Any) -> Iterator[ast.SelectStmt]:
    """Every SelectStmt under node (itself included), and the WHERE of UPDATE/DELETE as one."""
    if isinstance(node, ast.SelectStmt):
        yield node
    elif isinstance(node, ast.UpdateStmt | ast.DeleteStmt):
        yield ast.SelectStmt(fromClause=(node.relation,), whereClause=node.whereClause)
    if isinstance(node, ast.Node):
        for attribute in node:
            yield from _children(getattr(node, attribute))


def _children(value: Any) -> Iterator[ast.SelectStmt]:
    if isinstance(value, tuple | list):
        for item in value:
            yield from _children(item)
    elif isinstance(value, ast.Node):
        yield from _selects(value)


def _tables(node: Any, found: dict[str, str]) -> None:
    """alias (or name) -> table, for the plain tables of a FROM clause."""
    if isinstance(node, ast.RangeVar):
        alias: Any = node.alias
        found[str(alias.aliasname if alias else node.relname)] = str(node.relname)
    elif isinstance(node, ast.JoinExpr):
        _tables(node.larg, found)
        _tables(node.rarg, found)


def _column(node: Any, tables: dict[str, str]) -> tuple[str, str] | None:
    """(table, column) of a column reference; an unqualified one only when there is one table."""
    if isinstance(node, ast.TypeCast):
        return _column(node.arg, tables)
    if not isinstance(node, ast.ColumnRef):
        return None
    fields: Any = node.fields
    names = [str(f.sval) for f in fields if isinstance(f, ast.String)]
    if len(names) != len(fields):
        return None  # table.*
    if len(names) == 2 and names[0] in tables:
        return tables[names[0]], names[1]
    if len(names) == 1 and len(set(tables.values())) == 1:
        return next(iter(tables.values())), names[0]
    return None


def _constant(node: Any) -> tuple[bool, str | int | float | bool | None]:
    """(is it a literal, its value)."""
    if isinstance(node, ast.TypeCast):
        return _constant(node.arg)
    if not isinstance(node, ast.A_Const):
        return False, None
    if node.isnull:
        return True, None
    value: Any = node.val
    if isinstance(value, ast.Integer):
        return True, int(value.ival or 0)
    if isinstance(value, ast.Float):
        return True, float(value.fval or 0)
    if isinstance(value, ast.Boolean):
        return True, bool(value.boolval)
    if isinstance(value, ast.String):
        return True, str(value.sval)
    return False, None


def _conjuncts(node: Any) -> Iterator[Any]:
    if isinstance(node, ast.BoolExpr) and node.boolop == enums.BoolExprType.AND_EXPR:
        args: Any = node.args
        for arg in args:
            yield from _conjuncts(arg)
    elif node is not None:
        yield node


@dataclass
class _Table:
    equal: list[str]
    ranges: list[str]
    constants: list[Predicate]


def _condition(node: Any, tables: dict[str, str], seen: dict[str, _Table]) -> None:
    """File one conjunct of a WHERE under its table, when an index can use it."""
    if isinstance(node, ast.NullTest):
        found = _column(node.arg, tables)
        if found:
            test: Test = "is null" if node.nulltesttype == enums.NullTestType.IS_NULL else "is not null"
            seen[found[0]].constants.append(Predicate(found[1], test))
        return
    if isinstance(node, ast.BoolExpr) and node.boolop == enums.BoolExprType.NOT_EXPR:
        negated: Any = node.args
        found = _column(negated[0], tables)
        if found:
            seen[found[0]].constants.append(Predicate(found[1], "=", False))
        return
    found = _column(node, tables)
    if found:  # a boolean column on its own
        seen[found[0]].constants.append(Predicate(found[1], "=", True))
        return
    if not isinstance(node, ast.A_Expr):
        return
    operator = node.name[-1].sval if node.name else ""
    column = _column(node.lexpr, tables)
    if column is None:
        return
    table, name = column
    if node.kind == enums.A_Expr_Kind.AEXPR_IN and operator == "=":
        seen[table].equal.append(name)
    elif node.kind == enums.A_Expr_Kind.AEXPR_BETWEEN:
        seen[table].ranges.append(name)
    elif node.kind == enums.A_Expr_Kind.AEXPR_OP:
        literal, value = _constant(node.rexpr)
        if not literal:
            return  # a join condition or an expression: the planner joins, no constant to look up
        if operator == "=":
            seen[table].equal.append(name)
            seen[table].constants.append(Predicate(name, "=", value))
        elif operator in RANGE_OPERATORS:
            seen[table].ranges.append(name)


def _order(select: ast.SelectStmt, tables: dict[str, str]) -> tuple[str, tuple[Key, ...]] | None:
    """(table, keys) when every ORDER BY key is a column of one table."""
    keys, owner = [], None
    for sort in select.sortClause or ():
        found = _column(sort.node, tables)
        if found is None or owner not in (None, found[0]):
            return None
        owner = found[0]
        keys.append(Key(found[1], sort.sortby_dir == enums.SortByDir.SORTBY_DESC))
    return (owner, tuple(keys)) if owner else None


def _read_columns(select: ast.SelectStmt, tables: dict[str, str]) -> tuple[dict[str, list[str]], set[str]]:
    """Every column reference of the statement by table, and the tables read whole (t.* or *)."""
    columns: dict[str, list[str]] = {t: [] for t in tables.values()}
    star: set[str] = set()

    def visit(node: Any) -> None:
        if isinstance(node, ast.ColumnRef):
            found = _column(node, tables)
            if found:
                columns[found[0]].append(found[1])
            elif isinstance(_fields(node)[-1], ast.A_Star):
                star.update(tables.values() if len(_fields(node)) == 1 else [tables.get(_alias(node), "")])
            return
        if isinstance(node, ast.SelectStmt) and node is not select:
            return  # a subquery's columns are its own
        if isinstance(node, ast.Node):
            for attribute in node:
                visit_value(getattr(node, attribute))

    def visit_value(value: Any) -> None:
        if isinstance(value, tuple | list):
            for item in value:
                visit_value(item)
        elif isinstance(value, ast.Node):
            visit(value)

    visit(select)
    return columns, star


def _fields(node: ast.ColumnRef) -> tuple[Any, ...]:
    return tuple(node.fields or ())


def _alias(node: ast.ColumnRef) -> str:
    first = _fields(node)[0]
    return str(first.sval) if isinstance(first, ast.String) else ""


def _of_select(select: ast.SelectStmt) -> list[Access]:
    tables: dict[str, str] = {}
    for item in select.fromClause or ():
        _tables(item, tables)
    if not tables:
        return []
    seen = {t: _Table([], [], []) for t in tables.values()}
    for conjunct in _conjuncts(select.whereClause):
        _condition(conjunct, tables, seen)
    for item in select.fromClause or ():
        if isinstance(item, ast.JoinExpr):
            for conjunct in _conjuncts(item.quals):
                _condition(conjunct, tables, seen)
    order = _order(select, tables)
    columns, star = _read_columns(select, tables)
    return [
        Access(
            table=table,
            equal=tuple(dict.fromkeys(found.equal)),
            ranges=tuple(dict.fromkeys(c for c in found.ranges if c not in found.equal)),
            order=order[1] if order and order[0] == table else (),
            constants=tuple(dict.fromkeys(found.constants)),
            columns=tuple(dict.fromkeys(columns[table])),
            star=table in star,
        )
        for table, found in seen.items()
    ]
