"""How numbers are written in the report. Tests format their expected values with the same functions."""

from __future__ import annotations

from bench import stats


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


def percent(fraction: float | None) -> str:
    return "-" if fraction is None else f"{fraction * 100:.1f} %"


def ratio(value: float) -> str:
    """Baseline/candidate as the factor people say: "2.00x faster" or "1.25x slower"."""
    if value == float("inf"):
        return "infinitely faster"
    if value >= 1:
        return f"{value:.2f}x faster"
    return f"{1 / value:.2f}x slower" if value > 0 else "-"


def ratio_ci(interval: tuple[float, float] | None) -> str:
    if interval is None:
        return "-"
    return f"{interval[0]:.2f}x to {interval[1]:.2f}x"


def saving(fraction: float) -> str:
    """A reduction (1 - candidate/baseline) as words: "80.0 % faster" / "25.0 % slower"."""
    if fraction >= 0:
        return f"{fraction * 100:.1f} % faster"
    return f"{-fraction * 100:.1f} % slower"


def p_value(value: float | None) -> str:
    if value is None:
        return "-"
    return "< 0.001" if value < 0.001 else f"{value:.3f}"


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


def change(comparison: stats.Comparison) -> str:
    return f"{ratio(comparison.ratio)} ({saving(comparison.reduction)})"


def cell(text: object) -> str:
    """Make any text safe inside a markdown table cell."""
    return str(text).replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")
