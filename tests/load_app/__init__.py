"""A test-only Django configuration for the load tests: the project's URLs plus endpoints that exist
only to test the load harness. Never part of the project under test."""

from __future__ import annotations
