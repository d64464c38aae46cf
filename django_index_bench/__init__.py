"""django-index-bench: measure a Django change before and after, on real PostgreSQL, and report it.

Everything the distribution installs lives under this one package, so no project's own `bench`, `seed`
or `reports` app is ever shadowed: bench/ measures, seed/ fills tables, reports/ renders results.
"""

from __future__ import annotations

__version__ = "0.1.0"
