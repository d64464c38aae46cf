"""The verdict vocabulary: one word per meaning, for timings, the gate and claims."""

from __future__ import annotations

from typing import Final, Literal

# A comparison of two timings (bench run's states, a suggestion against no index).
TimingVerdict = Literal["faster", "slower", "no significant change", "not enough samples"]
FASTER: Final = "faster"
SLOWER: Final = "slower"
NO_CHANGE: Final = "no significant change"
NOT_ENOUGH: Final = "not enough samples"
Called = Literal["faster", "slower"]  # a timing verdict that calls a change

# A finding of the gate, HEAD against BASE (measurements and load results alike).
Direction = Literal["regression", "improvement", "unchanged", "changed"]
REGRESSION: Final = "regression"
IMPROVEMENT: Final = "improvement"
UNCHANGED: Final = "unchanged"
CHANGED: Final = "changed"  # a finding that is neither better nor worse (a plan shape that moved)
MISSING: Final = "missing"  # the status of a measurement a results file does not have

# A claim of a write-up, judged against a run.
ClaimStatus = Literal["met", "not met", "not measurable here"]
MET: Final = "met"
NOT_MET: Final = "not met"
NOT_MEASURABLE: Final = "not measurable here"

# The two timed metrics and how the reader is told them.
Metric = Literal["time", "db_time"]
END_TO_END: Final = "time"
DB_TIME: Final = "db_time"
METRIC_WORDS: Final = {END_TO_END: "end to end", DB_TIME: "database time"}

# A timing regression of `bench compare`, measured again before it may fail the gate; a case `bench run`
# calls faster or slower, measured again before the report says so.
Confirmation = Literal["confirmed", "not confirmed", "not measured again"]
CONFIRMED: Final = "confirmed"
NOT_CONFIRMED: Final = "not confirmed"
NOT_REMEASURED: Final = "not measured again"  # the second measurement failed: the finding stands
CONFIRMATION_WORDS: Final = {
    CONFIRMED: "confirmed on a second measurement",
    NOT_CONFIRMED: "not confirmed: treated as noise",
    NOT_REMEASURED: "could not be measured again, so it stands",
}
