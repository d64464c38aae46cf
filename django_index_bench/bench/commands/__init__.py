"""One module per `bench` subcommand. Each defines NAME, HELP, add_arguments(parser) and handle(args).

The CLI discovers them, so adding a command is adding a module here.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType


@dataclass(frozen=True)
class Command:
    name: str
    help: str
    add_arguments: Callable[[argparse.ArgumentParser], None]
    handle: Callable[[argparse.Namespace], int]


def _load(module: ModuleType) -> Command:
    return Command(module.NAME, module.HELP, module.add_arguments, module.handle)


def discover() -> list[Command]:
    names = sorted(m.name for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_"))
    return [_load(importlib.import_module(f"{__name__}.{name}")) for name in names]
