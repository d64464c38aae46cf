"""The sample's check of a load endpoint's responses, named in bench.toml's [[load.endpoints]] check."""

from __future__ import annotations

import json


def helpdesk_body(side: str, body: bytes) -> str | None:
    """Why a response is not the one the side should answer with; None when it is."""
    try:
        data = json.loads(body)
    except ValueError:
        return f"not JSON: {body[:80]!r}"
    key = "data" if side == "legacy" else "items"
    if not isinstance(data, dict) or not isinstance(data.get(key), list):
        return f"no {key!r} list in the response: {body[:80]!r}"
    return None
