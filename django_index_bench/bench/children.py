"""Child processes that do not outlive the command: ended by the kernel when it dies, however it dies.

`finally` blocks stop servers and generators on an error, Ctrl-C or SIGTERM; SIGKILL runs none of them.
Linux's parent-death signal covers that case: the child gets SIGTERM (gunicorn's graceful stop) the
moment the process that started it is gone. Elsewhere this is a no-op, and `finally` is all there is.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import signal
import sys

PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


def die_with_parent() -> None:
    """Popen's preexec_fn: SIGTERM to this child when its parent dies (Linux)."""
    if not sys.platform.startswith("linux"):
        return
    parent = os.getppid()
    libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    if os.getppid() != parent:  # the parent died before the signal was asked for
        os.kill(os.getpid(), signal.SIGTERM)
