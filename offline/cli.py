"""How the project's commands are named in their usage text, and how they end: an exit status, and no
traceback when the reader has gone."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable

COMMAND_PREFIX = "login-monitoring-"


def program(module: str) -> str:
    """The command as it was typed: the installed one (login-monitoring-replay), else python -m <module>."""
    invoked = os.path.basename(sys.argv[0]) if sys.argv and sys.argv[0] else ""
    return invoked if invoked.startswith(COMMAND_PREFIX) else f"python -m {module}"


def run(main: Callable[[], int]) -> None:
    try:
        status = main()
        sys.stdout.flush()
    except BrokenPipeError:
        # `plan dev | head -1`: the reader closed the pipe. Point stdout at /dev/null so the
        # interpreter's final flush cannot fail again, and end quietly.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        status = 1
    sys.exit(status)
