"""The steps of `bench run`: seed, move copies to their states, the timed series, the scale curve and
the sensitivity trials."""
