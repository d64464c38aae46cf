"""PostgreSQL handling: the embedded server, the databases the harness owns, their copies, the run lock
and the cache."""
