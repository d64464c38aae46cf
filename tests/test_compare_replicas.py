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

import pytest

from tests.cli import bench
from tests.git_repos import DEVICE_QUERY, TRACKING, branch, git, project_copy

BUSY_WAIT = (
    'started = __import__("time").perf_counter()\n'
    '        while __import__("time").perf_counter() - started < 0.004:\n'
    "            pass\n"
    "        "
)


@pytest.fixture(scope="module")
def project_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """This project's committed tree, and a branch whose tracking_device call busy-waits 4 ms."""
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
        assert 1 / row["confirmation"]["timing"]["ratio"] > 1.5  # the second measurement's own figure
    assert data["confirmation"].startswith("each timing regression was measured a second time")
    # The second measurement is a results pair of its own, of the flagged items only.
    again = json.loads((tmp_path / "head.confirm.json").read_text(encoding="utf-8"))
    assert len([m for m in again["measurements"] if m["timing"]]) == 6
    assert again["run_id"] != json.loads((tmp_path / "head.json").read_text(encoding="utf-8"))["run_id"]
    markdown = (tmp_path / "COMPARISON.md").read_text(encoding="utf-8")
    assert "### Timings measured again" in markdown
    assert markdown.count("| confirmed on a second measurement |") == 6
    assert "confirmed on a second measurement: end to end" in done.stdout
