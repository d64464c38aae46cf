"""`bench compare` end to end on real PostgreSQL and real git repositories: confirm before failing, and
the database level replicated.

Tiny profile, one scenario, a short budget per item (not --quick: eight pairs can show nothing, and a
test that cannot fail proves nothing). A real slowdown (a busy-wait in the scenario's code) must be found
and confirmed on the second measurement.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import psycopg
import pytest

from django_index_bench.bench.cli import main
from django_index_bench.bench.gate import interleaved, refs
from django_index_bench.bench.pg import server as embedded
from tests.cli import bench
from tests.git_repos import DEVICE_QUERY, TRACKING, branch, git, project_copy

BUSY_WAIT = (
    'started = __import__("time").perf_counter()\n'
    '        while __import__("time").perf_counter() - started < 0.02:\n'
    "            pass\n"
    "        "
)


@pytest.fixture(scope="module")
def project_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """This project's committed tree, and a branch whose tracking_device call busy-waits 20 ms: several
    times the call, so the test finds it on a busy machine too."""
    repo = project_copy(tmp_path_factory.mktemp("project"))
    tracking = (repo / TRACKING).read_text(encoding="utf-8")
    assert tracking.count(DEVICE_QUERY) == 1
    branch(repo, "busy", {Path(TRACKING): tracking.replace(DEVICE_QUERY, BUSY_WAIT + DEVICE_QUERY)})
    git(repo, "checkout", "--quiet", "main")
    return repo


def bench_compare(repo: Path, out: Path, *args: str) -> Any:
    return bench(
        "compare", *args, "--repo", str(repo), "--output", str(out),
        "--profile", "tiny", "--seed", "7", "--seconds", "0.3",
    )  # fmt: skip


def comparison(out: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((out / "comparison.json").read_text(encoding="utf-8"))
    return data


def test_a_real_slowdown_is_measured_again_and_confirmed(project_repo: Path, tmp_path: Path) -> None:
    done = bench_compare(project_repo, tmp_path, "main", "busy", "--scenario", "tracking_device")
    assert done.returncode == 1, done.stdout + done.stderr
    data = comparison(tmp_path)
    flagged = [r for r in data["rows"] if r["confirmation"] is not None]
    # Every case on both sides runs the busy-wait: six items, each slower end to end, each confirmed.
    assert sorted((r["case"], r["side"]) for r in flagged) == sorted(
        (case, side) for case in ("heavy", "typical", "light") for side in ("before", "after")
    )
    assert {r["confirmation"]["outcome"] for r in flagged} == {"confirmed"}
    assert {r["verdict"] for r in flagged} == {"regression"}
    for row in flagged:
        assert 1 / row["confirmation"]["timing"]["ratio"] > 2  # the second measurement's own figure
    assert data["confirmation"].startswith("each timing regression was measured a second time")
    # The second measurement is a results pair of its own, of the flagged items only.
    again = json.loads((tmp_path / "head.confirm.json").read_text(encoding="utf-8"))
    assert len([m for m in again["measurements"] if m["timing"]]) == 6
    assert again["run_id"] != json.loads((tmp_path / "head.json").read_text(encoding="utf-8"))["run_id"]
    markdown = (tmp_path / "COMPARISON.md").read_text(encoding="utf-8")
    assert "### Timings measured again" in markdown
    assert markdown.count("| confirmed on a second measurement |") == 6
    assert "confirmed on a second measurement: end to end" in done.stdout


def _bloat(url: str, held: list[psycopg.Connection[Any]]) -> None:
    """Six dead versions of every tracking row that VACUUM may not remove: a snapshot taken before the
    updates stays open (in `held`) for the whole compare, and autovacuum is off for the table. Six, not
    two: with the copies prewarmed into large shared buffers, two slowed the copy by only 10-20 %."""
    hold = psycopg.connect(url)
    hold.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
    hold.execute("SELECT count(*) FROM tracking").fetchone()
    held.append(hold)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("ALTER TABLE tracking SET (autovacuum_enabled = off)")
        for _ in range(6):
            conn.execute("UPDATE tracking SET battery_level = battery_level")


@pytest.mark.parametrize("copies", [None, "2"])
def test_one_copy_with_dead_tuples_is_not_called_a_change_of_the_code(
    project_repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, copies: str | None
) -> None:
    """A/A, with one of HEAD's database copies (both states) given dead tuples after its migrations: a
    copy-level artefact, never a change of the code. With four copies it moves a quarter of the pairs,
    with two half of them; a timing it makes look slower is measured again on fresh copies."""
    made: list[tuple[str, str]] = []
    held: list[psycopg.Connection[Any]] = []
    copy_database, reach_states = refs.copy_database, interleaved._states

    def copying(server: str, template: str, name: str) -> None:
        copy_database(server, template, name)
        made.append((server, name))

    def reaching(pool: Any, role: str, copies: int) -> Any:
        reached = reach_states(pool, role, copies)
        if role == "head" and not held:  # the first measurement only
            for server, name in made:
                if "_head_" in name and name.endswith("_c1"):
                    _bloat(embedded.with_database(server, name), held)
        return reached

    monkeypatch.setattr(interleaved, "copy_database", copying)
    monkeypatch.setattr(interleaved, "_states", reaching)
    try:
        code = main(
            [
                "compare", "main", "main", "--repo", str(project_repo), "--output", str(tmp_path),
                "--profile", "tiny", "--seed", "7", "--seconds", "0.3", "--scenario", "tracking_person_range",
                *(["--copies", copies] if copies else []),
            ]
        )  # fmt: skip
    finally:
        for conn in held:
            conn.close()
    assert len(held) == 2  # the artefact was made, on head's copy 1 of both states
    data = comparison(tmp_path)
    assert [r for r in data["rows"] if r["verdict"] == "regression"] == []
    assert code == 0
    assert data["copies"] == int(copies or 4)
    # Every copy prewarmed alike, or none (when they do not fit in shared buffers together).
    print("prewarm:", data["prewarm"])
    assert data["prewarm"].startswith(
        ("pg_prewarm of every table and index of each of the", "not prewarmed: the")
    )
    assert f"the {int(copies or 4) * 4} copies (" in data["prewarm"]  # two refs, two states
    # Anything the artefact made look slower was measured again, and not confirmed.
    outcomes = [r["confirmation"]["outcome"] for r in data["rows"] if r["confirmation"]]
    print("measured again:", outcomes)
    assert set(outcomes) <= {"not confirmed"}
    # The artefact was there, on one copy: HEAD's copy 1 slower than its copy 0 in database time.
    factors = []
    for row in data["rows"]:
        head = {c["copy"]: c["db_s"] for c in row["copies"] if c["role"] == "head"}
        factors.append(head[1] / head[0])
    print("head copy 1 / copy 0, database time:", [f"{f:.2f}" for f in factors])
    assert max(factors) > 1.25
