"""The tables a plan reads, from PostgreSQL's JSON plan: every node's "Relation Name".

Pure (no database, no Django), so the results file's upgrade can read an older file's raw plans the same
way the runner reads a fresh one.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any


def _nodes(node: Any) -> Iterator[dict[str, Any]]:
    if not isinstance(node, dict):
        return
    yield node
    for child in node.get("Plans", ()):
        yield from _nodes(child)


def relations(document: Any) -> tuple[str, ...]:
    """Sorted, each once; () for a plan without raw JSON. Scans of a CTE or function name none."""
    if not isinstance(document, list) or not document or not isinstance(document[0], dict):
        return ()
    found = {str(n["Relation Name"]) for n in _nodes(document[0].get("Plan")) if "Relation Name" in n}
    return tuple(sorted(found))
