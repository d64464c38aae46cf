"""Relation sizes are read from the catalog as pg_relation_size reports them."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bench.costs.sizes import relation_sizes

if TYPE_CHECKING:
    from django.db.backends.base.base import BaseDatabaseWrapper


def test_relation_sizes_match_pg_relation_size(db: BaseDatabaseWrapper) -> None:
    sizes = relation_sizes(["tracking"])
    kinds = {s.relation: s.kind for s in sizes}
    assert kinds["tracking"] == "table"
    assert kinds["tracking_device_idx"] == "index"
    with db.cursor() as cursor:
        for size in sizes:
            cursor.execute("SELECT pg_relation_size(%s::regclass)", [size.relation])
            assert size.bytes == cursor.fetchone()[0]
    # An empty btree still has its metapage: every index has a positive size.
    assert all(s.bytes > 0 for s in sizes if s.kind == "index")
