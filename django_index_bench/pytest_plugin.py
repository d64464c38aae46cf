"""pytest plugin: index and query checks, and paired before/after timings, in a project's own suite,
on the states its bench.toml describes.

Inert until a test asks for a fixture of it: loading it (every suite in an environment where the
harness is installed does, through the pytest11 entry point) only adds options. The first test that
asks seeds the harness database at the profile (`--index-bench-profile`, ini `index_bench_profile`;
small by default; reused when it already holds those rows) and makes one copy per state; the copies
are dropped when the session ends.

    def test_orders_by_customer_use_the_new_index(index_bench):
        observed = index_bench.observe(Order.objects.filter(customer_id=7), state="after")
        observed.assert_uses_index("order_customer_created_idx")
"""

from __future__ import annotations

import argparse
import contextlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from django.db.models import QuerySet

    from django_index_bench.bench.rounds.calls import Call, Observed, Paired
    from django_index_bench.bench.rounds.schedule import Rules
    from django_index_bench.bench.steps.session import SessionStates

DEFAULT_PROFILE = "small"
DEFAULT_DATABASE = "bench"
Access = Callable[[], contextlib.AbstractContextManager[object]]


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("django-index-bench", "index checks on the states bench.toml describes")
    options = (
        ("config", "the project's bench.toml (default: found from the rootdir upwards)", None),
        ("profile", f"the seed profile the states hold (default: {DEFAULT_PROFILE})", DEFAULT_PROFILE),
        ("seed", "the random seed of the data (default: the harness's)", None),
        ("database", f"the harness database seeded for the session (default: {DEFAULT_DATABASE})", None),
    )
    for name, text, default in options:
        group.addoption(f"--index-bench-{name}", dest=f"index_bench_{name}", default=None, help=text)
        parser.addini(f"index_bench_{name}", text, default=default)


def _option(config: pytest.Config, name: str) -> str | None:
    value = config.getoption(f"index_bench_{name}") or config.getini(f"index_bench_{name}")
    return str(value) if value else None


@dataclass
class IndexBench:
    """What a test sees: the session's states, by name ("before", "after", and any it derives)."""

    session: SessionStates
    access: Access  # opens the database to the harness's own connections (pytest-django blocks them)

    @property
    def states(self) -> tuple[str, ...]:
        return tuple(self.session.states)

    def __repr__(self) -> str:
        return f"IndexBench(profile={self.session.profile!r}, states={self.states!r})"

    def observe(self, target: Call | QuerySet[Any], state: str = "after") -> Observed:
        """The queries a callable sends (or a queryset's) in `state`, with their plans."""
        from django_index_bench.bench.rounds.calls import observe

        self._known(state)
        with self.access():
            return observe(self.session.databases, state, target)

    def derive(
        self, base: str, name: str, *, drop_indexes: Sequence[str] = (), create_indexes: Sequence[str] = ()
    ) -> str:
        """A state `base` then these index changes, e.g. the after state without an index a branch
        dropped; made once per session and name."""
        from django_index_bench.bench.errors import UsageError
        from django_index_bench.bench.steps.session import derive

        with self.access():
            try:
                return derive(
                    self.session, base, name, drop_indexes=drop_indexes, create_indexes=create_indexes
                )
            except UsageError as exc:
                pytest.fail(f"django-index-bench: {exc}", pytrace=False)

    def _known(self, state: str) -> None:
        if state not in self.session.states:
            pytest.fail(
                f"django-index-bench: unknown state {state!r}; the states: {', '.join(self.states)}",
                pytrace=False,
            )


def _access(request: pytest.FixtureRequest) -> Access:
    """pytest-django blocks database access outside its db fixtures, harness connections included."""
    if request.config.pluginmanager.hasplugin("django"):
        blocker = request.getfixturevalue("django_db_blocker")
        return lambda: blocker.unblock()
    return contextlib.nullcontext


@pytest.fixture(scope="session")
def index_bench(request: pytest.FixtureRequest) -> Iterator[IndexBench]:
    """The project's data seeded once at the session's profile, and one copy of it per state."""
    from django_index_bench.bench import config as configs
    from django_index_bench.bench.errors import UsageError
    from django_index_bench.bench.options import seed as seed_value
    from django_index_bench.bench.steps.session import close_states, open_states
    from django_index_bench.seed import SeedInputError
    from django_index_bench.seed.inputs import DEFAULT_SEED

    access = _access(request)
    named = _option(request.config, "config")
    seed = _option(request.config, "seed")
    try:
        project = configs.load(
            Path(named) if named else None, start=None if named else request.config.rootpath
        )
        with access():
            session = open_states(
                project,
                _option(request.config, "profile"),
                seed_value(seed) if seed else DEFAULT_SEED,
                _option(request.config, "database") or DEFAULT_DATABASE,
            )
    except (UsageError, SeedInputError, argparse.ArgumentTypeError) as exc:
        pytest.fail(f"django-index-bench: {exc}", pytrace=False)
    try:
        yield IndexBench(session, access)
    finally:
        with access():
            close_states(session)


Pair = Callable[..., "Paired"]


@pytest.fixture
def index_bench_pair(index_bench: IndexBench, benchmark: Any) -> Pair:
    """Time a callable in two states (or two callables in one), pair by pair, interleaved as `bench run`
    does; the candidate's rounds are this test's pytest-benchmark result (so --benchmark-json,
    -autosave and -compare see them), the baseline and the comparison go in its extra_info."""

    def pair(
        call: Call | QuerySet[Any],
        *,
        baseline: str = "before",
        candidate: str = "after",
        candidate_call: Call | QuerySet[Any] | None = None,
        rules: Rules | None = None,
        alpha: float = 0.05,
        threshold: float = 0.0,
    ) -> Paired:
        from django_index_bench.bench.rounds.calls import as_call, time_pair
        from django_index_bench.bench.rounds.schedule import Rules
        from django_index_bench.seed.inputs import DEFAULT_SEED

        for state in (baseline, candidate):
            index_bench._known(state)
        if benchmark.disabled:
            # --benchmark-disable: one pair only, as pytest-benchmark runs a disabled benchmark once.
            rules = Rules(seconds=0.0, min_pairs=1, max_pairs=1, warmup_rounds=0, check_every=1)
        base_call = as_call(call)
        cand_call = as_call(candidate_call) if candidate_call is not None else base_call
        with index_bench.access():
            paired = time_pair(
                index_bench.session.databases,
                (baseline, base_call),
                (candidate, cand_call),
                rules=rules or Rules(),
                seed=DEFAULT_SEED,
                alpha=alpha,
                threshold=threshold,
            )
        _report(benchmark, paired, baseline, candidate)
        return paired

    return pair


def _report(benchmark: Any, paired: Paired, baseline: str, candidate: str) -> None:
    """The candidate's rounds as the benchmark's own (one iteration per round: each round is one
    call), so pytest-benchmark's table, JSON and compare show them; the rest in extra_info."""
    from django_index_bench.reports.exports import comparison_info

    assert paired.candidate.timing is not None
    if benchmark.disabled:
        return
    benchmark._mode = "index_bench_pair(...)"  # pytest-benchmark's guard against a second use
    stats = benchmark._make_stats(1)
    for seconds in paired.candidate.timing.total_s:
        stats.update(seconds)
    benchmark.extra_info.update(
        {
            "baseline_state": baseline,
            "candidate_state": candidate,
            **comparison_info(paired.total, paired.database),
            "query_count": {
                "baseline": paired.baseline.query_count,
                "candidate": paired.candidate.query_count,
            },
        }
    )
