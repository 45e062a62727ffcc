"""How the project's commands end: an exit status, and no traceback when the reader has gone."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable


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
