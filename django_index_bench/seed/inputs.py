"""What every seeder shares at its edge: the seed's range, the default seed and profile, and the error a
request that cannot be honoured raises (one line, turned into exit status 2 by the CLI)."""

from __future__ import annotations


class SeedInputError(ValueError):
    """A seed request that cannot be honoured; the message says what to change."""


MAX_SEED = 2**32 - 1
DEFAULT_SEED = 42
# The profile a command seeds when none is named, if the seeder has one of that name.
DEFAULT_PROFILE = "default"
