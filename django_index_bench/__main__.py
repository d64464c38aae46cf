from __future__ import annotations

from django_index_bench.bench.cli import run

run()
