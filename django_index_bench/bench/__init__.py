"""Measure a Django change before and after, on real PostgreSQL."""

from __future__ import annotations

from django_index_bench import __version__

__all__ = ["__version__"]
