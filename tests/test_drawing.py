"""The report's charts drawn side by side: every chart back in its drawer's order, the ones without
data left out, a drawer's error raised where the report is rendered, in processes where that is safe."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from django_index_bench.reports import drawing
from django_index_bench.reports.charts import Chart


def writing(directory: Path, name: str) -> drawing.Drawer:
    def draw() -> Chart:
        (directory / name).write_text(str(os.getpid()), encoding="utf-8")
        return Chart(name, f"title of {name}", "caption")

    return draw


def test_charts_come_back_in_order_without_the_ones_that_have_no_data(tmp_path: Path) -> None:
    names = ["a.png", "b.png", "c.png", "d.png"]
    drawers = [writing(tmp_path, "a.png"), lambda: None, *(writing(tmp_path, n) for n in names[1:])]
    drawn = drawing.draw(drawers)
    assert [c.filename for c in drawn] == names
    assert drawn[0] == Chart("a.png", "title of a.png", "caption")
    pids = {(tmp_path / n).read_text(encoding="utf-8") for n in names}
    if drawing._processes(len(drawers)) > 1:
        assert str(os.getpid()) not in pids  # drawn in the forked processes, not here
    else:
        assert pids == {str(os.getpid())}


def test_a_drawer_that_fails_fails_the_rendering(tmp_path: Path) -> None:
    def broken() -> Chart:
        raise ValueError("no rounds to draw")

    with pytest.raises(ValueError, match="no rounds to draw"):
        drawing.draw([writing(tmp_path, "a.png"), broken, writing(tmp_path, "b.png")])


def test_a_single_chart_is_drawn_here(tmp_path: Path) -> None:
    (chart,) = drawing.draw([writing(tmp_path, "only.png")])
    assert chart.filename == "only.png"
    assert (tmp_path / "only.png").read_text(encoding="utf-8") == str(os.getpid())
