"""One item's rounds: the schedule, the executor, the sides that run a call, its deterministic facts,
the plans it explains and the statistics over its timings."""
