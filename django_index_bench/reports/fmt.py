"""How numbers and text are written in the reports, and the one Jinja environment their templates use.

Every figure a template shows is a string made here (or from these functions), so templates hold no
numbers of their own and two reports never write the same quantity two ways.
"""

from __future__ import annotations

from pathlib import Path

import jinja2

from django_index_bench.verdicts import stats
from django_index_bench.verdicts.buffers import Blocks

TEMPLATES = Path(__file__).with_name("templates")


def _sig(value: float, digits: int = 3) -> str:
    """`digits` significant digits without ever switching to exponent notation."""
    if value == 0:
        return "0"
    magnitude = len(str(int(abs(value)))) if abs(value) >= 1 else 0
    decimals = max(digits - magnitude, 0) if abs(value) >= 1 else digits
    return f"{value:.{decimals}f}" if abs(value) >= 1 else f"{value:.{digits}g}"


def duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    # Round first, so 0.9999 ms reads "1.00 ms", not "1000 µs".
    seconds = float(f"{seconds:.3g}")
    if abs(seconds) < 1e-3:
        return f"{_sig(seconds * 1e6)} µs"
    if abs(seconds) < 1:
        return f"{_sig(seconds * 1e3)} ms"
    return f"{_sig(seconds)} s"


def percent(fraction: float | None, decimals: int = 1) -> str:
    return "-" if fraction is None else f"{fraction * 100:.{decimals}f} %"


def ratio(value: float) -> str:
    """Baseline/candidate as the factor people say: "2.00x faster" or "1.25x slower"."""
    if value == float("inf"):
        return "infinitely faster"
    if f"{value:.2f}" == "1.00" and f"{1 / value:.2f}" == "1.00":
        return "1.00x"  # no direction: "1.00x slower" would name a change it cannot show
    if value >= 1:
        return f"{value:.2f}x faster"
    return f"{1 / value:.2f}x slower" if value > 0 else "-"


def factor(value: float | None) -> str:
    """A plain multiple, no direction: "3.50x" (WAL after / before, a size)."""
    return "-" if value is None else f"{value:.2f}x"


def ratio_ci(interval: tuple[float, float] | None) -> str:
    """A baseline/candidate interval in the words of the change beside it: "1.30x to 1.50x faster",
    "1.02x to 1.10x slower", or "1.05x slower to 1.20x faster" when it spans no change."""
    if interval is None:
        return "-"
    low, high = interval
    if low >= 1:
        return f"{low:.2f}x to {high:.2f}x faster"
    if high <= 1:
        return f"{1 / high:.2f}x to {1 / low:.2f}x slower"
    return f"{1 / low:.2f}x slower to {high:.2f}x faster"


# From this factor on a change reads as a factor: "659x faster" says what "99.8 % faster" hides.
FACTOR_FROM = 2.0


def _is_factor(value: float) -> bool:
    return value >= FACTOR_FROM or value <= 1 / FACTOR_FROM


def saving(fraction: float) -> str:
    """A reduction (1 - candidate/baseline) as words: "25.0 % faster" / "25.0 % slower"; from 2x on
    the factor, as ratio() writes it: "8.00x faster" (not "87.5 % faster"), "3.00x slower"."""
    value = 1 / (1 - fraction) if fraction < 1 else float("inf")
    if _is_factor(value):
        return ratio(value)
    if fraction >= 0:
        return f"{fraction * 100:.1f} % faster"
    return f"{-fraction * 100:.1f} % slower"


def p_value(value: float | None) -> str:
    if value is None:
        return "-"
    return "< 0.001" if value < 0.001 else f"{value:.3f}"


def p_is(value: float | None) -> str:
    """The p-value in a sentence: "p = 0.012", "p < 0.001"."""
    text = p_value(value)
    return f"p {text}" if text.startswith("<") else f"p = {text}"


def size(num_bytes: float | None) -> str:
    if num_bytes is None:
        return "-"
    value = float(num_bytes)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if abs(value) < 1024 or unit == "GiB":
            return f"{int(value)} B" if unit == "B" else f"{_sig(value)} {unit}"
        value /= 1024
    raise AssertionError("unreachable")


def count(value: int | None) -> str:
    return "-" if value is None else f"{value:,}"


def blocks(found: Blocks | None) -> str:
    """One side's shared-buffer hits and reads (a verdicts.buffers.Blocks): "12,340 hit + 0 read (0.0 %
    read)", or "not recorded"."""
    if found is None:
        return "not recorded"
    return f"{found.hit:,} hit + {found.read:,} read ({percent(found.read_share)} read)"


def blocks_differ(base_name: str, base: Blocks | None, head_name: str, head: Blocks | None) -> str:
    """The sentence beside a verdict whose sides took their pages from different places."""
    if base is None or head is None:
        return ""
    return (
        f"pages came from different places: {base_name} read {percent(base.read_share)} of its blocks from "
        f"outside shared buffers ({base.read:,} of {base.requests:,}), {head_name} "
        f"{percent(head.read_share)} ({head.read:,} of {head.requests:,})"
    )


def rate(per_second: float) -> str:
    return f"{per_second:,.0f}"


def slope(value: float) -> str:
    return f"{value:.2f}"


def short(value: float) -> str:
    """A chart label: three significant digits and k/M/G, "12.5k"."""
    for limit, unit in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if value >= limit:
            return f"{value / limit:.3g}{unit}"
    return f"{value:.3g}"


def change(comparison: stats.Comparison) -> str:
    """ "1.40x faster (28.6 % faster)"; from 2x on the factor alone: "8.00x faster"."""
    if _is_factor(comparison.ratio):
        return ratio(comparison.ratio)
    return f"{ratio(comparison.ratio)} ({saving(comparison.reduction)})"


def change_ci(comparison: stats.Comparison | None) -> str:
    """The change with its interval in one cell: "1.40x faster [1.30x to 1.50x]"."""
    if comparison is None:
        return "-"
    interval = f" [{ratio_ci(comparison.ratio_ci)}]" if comparison.ratio_ci else ""
    return ratio(comparison.ratio) + interval


def pairs(comparison: stats.Comparison) -> str:
    """What a comparison rests on: "30 pairs", or "12 rounds per side" without pairing."""
    if comparison.method == "paired":
        return f"{comparison.n} pair" + ("" if comparison.n == 1 else "s")
    return f"{comparison.n} rounds per side, unpaired"


def verdict_part(label: str, comparison: stats.Comparison | None) -> str:
    """One quantity's verdict in words: "database time 8.10x faster" when significant, else what the
    test said with the point estimate beside it, so a non-significant estimate never reads as a result."""
    if comparison is None:
        return f"{label} not compared"
    if comparison.significant:
        return f"{label} {ratio(comparison.ratio)}"
    return f"{label} {comparison.verdict} ({ratio(comparison.ratio)})"


def first_line(text: str | None) -> str:
    """An error's first line: enough for a table cell; the detail section has the rest."""
    lines = (text or "").strip().splitlines()
    return lines[0] if lines else ""


def cell(text: object) -> str:
    """Make any text safe inside a markdown table cell."""
    return str(text).replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def jinja_environment(templates: Path = TEMPLATES) -> jinja2.Environment:
    """The one environment for every report template: markdown, strict about undefined names, and the
    `cell` filter for table cells."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(templates),
        undefined=jinja2.StrictUndefined,
        autoescape=False,  # markdown, not HTML; cells are escaped by the cell filter
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["cell"] = cell
    return env
