"""`bench suggest`: index candidates derived from the SQL the scenarios send, each built on a copy of the
seeded data and measured there (reads paired against the copy without it, writes, build and lock)."""
