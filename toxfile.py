"""tox's inline plugin for this repository: the Django 6 environments' interpreter, found on PATH.

tox.ini lists the interpreters the Django 6 environments may use (`base_python`, newest first). tox-uv,
which builds the environments, tries only the first name of that list, so a machine with Python 3.12 and
no 3.13 would skip both. Here each name is looked for on PATH as virtualenv looks for it (the first
executable of that name that runs: a pyenv shim of a version that is not activated fails, and the search
goes on), and the environment gets the interpreter found, by its path. When none is found, base_python
stays as written, and tox skips the environment with a line naming what it looked for.
"""

from __future__ import annotations

import functools
import os
import subprocess
from pathlib import Path

from tox.config.loader.memory import MemoryLoader
from tox.config.sets import EnvConfigSet
from tox.plugin import impl
from tox.session.state import State

DJANGO6_ENVS = frozenset({"django60", "django61"})
# tox.ini's base_python of those environments, in its order (newest first). Repeated here rather than read
# from the configuration: a value tox has read is cached, and could no longer be replaced.
DJANGO6_PYTHONS = ("python3.13", "python3.12")


def _interpreter(executable: Path) -> Path | None:
    """The interpreter that executable runs (a pyenv shim runs another), or None if it does not run."""
    try:
        done = subprocess.run(
            [str(executable), "-c", "import sys; print(sys.executable)"],
            capture_output=True,
            stdin=subprocess.DEVNULL,
            text=True,
            timeout=30,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return Path(done.stdout.strip()) if done.returncode == 0 and done.stdout.strip() else None


def _on_path(name: str) -> Path | None:
    for folder in os.environ.get("PATH", "").split(os.pathsep):
        candidate = Path(folder) / name
        if candidate.is_file() and os.access(candidate, os.X_OK):
            found = _interpreter(candidate)
            if found is not None:
                return found
    return None


@functools.cache  # once per tox run, for both environments (a pyenv shim takes a second)
def django6_python() -> Path | None:
    """The interpreter of the first of DJANGO6_PYTHONS that runs, at the first place on PATH where it does."""
    for name in DJANGO6_PYTHONS:
        found = _on_path(name)
        if found is not None:
            return found
    return None


@impl
def tox_add_env_config(env_conf: EnvConfigSet, state: State) -> None:
    if env_conf.name not in DJANGO6_ENVS:
        return
    found = django6_python()
    if found is not None:  # else tox.ini's base_python stands, and the environment is skipped
        env_conf.loaders.insert(0, MemoryLoader(base_python=[str(found)]))
