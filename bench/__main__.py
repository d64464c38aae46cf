from __future__ import annotations

from bench.cli import run

run()
