"""Bytes on disk per table and per index (pg_relation_size): what the new indexes add."""

from __future__ import annotations

from django.db import connection

from django_index_bench.bench.results import RelationSize


def relation_sizes(tables: list[str]) -> tuple[RelationSize, ...]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT t.relname, t.relname, 'table', pg_relation_size(t.oid) FROM pg_class t"
            " WHERE t.oid = ANY(%s::regclass[])"
            " UNION ALL"
            " SELECT t.relname, i.relname, 'index', pg_relation_size(i.oid)"
            " FROM pg_index x JOIN pg_class t ON t.oid = x.indrelid JOIN pg_class i ON i.oid = x.indexrelid"
            " WHERE x.indrelid = ANY(%s::regclass[])"
            " ORDER BY 1, 3 DESC, 2",
            [tables, tables],
        )
        return tuple(
            RelationSize(table=table, relation=relation, kind=kind, bytes=int(size))
            for table, relation, kind, size in cursor.fetchall()
        )
