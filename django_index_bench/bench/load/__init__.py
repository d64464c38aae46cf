"""Under load: the project under test on a real WSGI server (gunicorn), driven by a load generator
(locust, in a process of its own), before and after, in alternating bursts.

Nothing here imports locust: it monkey-patches the standard library with gevent on import, so it only
ever runs in the generator's own process (bench.load.generator, started as a subprocess).
"""

from __future__ import annotations
