"""Measure a Django change before and after, on real PostgreSQL."""

from __future__ import annotations

__version__ = "0.1.0"
