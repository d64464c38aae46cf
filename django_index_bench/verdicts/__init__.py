"""Every verdict rule and default, in one place: `bench run`'s executor, `bench compare`'s gate and the
report all call this package, so "faster", "regression" or "met" means one thing wherever it is read.

- defaults: confidence, significance, threshold, minimum samples, speed classes, noise floors.
- words: the verdict vocabulary (timings, the gate, claims) and the timed metrics.
- stats: summaries, paired and independent comparisons and their intervals.
- timings: the one choice between a paired and an unpaired test of two timings.
- gate: BASE against HEAD, measurement by measurement (the gate).
- load_levels / load_gate: the load test's levels within a run, and between two refs.

Nothing here touches a database or formats markdown: it reads the results contract and returns values.
"""
