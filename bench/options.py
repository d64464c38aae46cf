"""argparse types shared by more than one command."""

from __future__ import annotations

import argparse


def threshold(text: str) -> float:
    """argparse type: '10%' (or a fraction like 0.1) -> 0.1."""
    token = text.strip()
    try:
        value = float(token[:-1]) / 100 if token.endswith("%") else float(token)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a percentage like 10%, got {text!r}") from None
    if not token.endswith("%") and value >= 1:
        raise argparse.ArgumentTypeError(f"a bare number is a fraction below 1; did you mean {text}%?")
    if not 0 <= value < 10:
        raise argparse.ArgumentTypeError(f"expected a threshold between 0% and 1000%, got {text!r}")
    return value
