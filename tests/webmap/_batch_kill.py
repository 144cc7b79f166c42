"""A Dask worker plugin that kills its own worker process once, while a task runs.

Registered by ``test_batch.py`` (pickled by value: workers do not import the tests). The
first worker that starts executing a task after registration claims ``marker`` (created
exclusively, so only one worker in the cluster does) and sends itself ``SIGKILL`` a moment
later, in the middle of that task.
"""

from __future__ import annotations

import os
import signal
import threading
from typing import Any

from distributed import WorkerPlugin


class KillOnce(WorkerPlugin):
    """SIGKILL the worker ``delay`` seconds after the first task starts executing."""

    def __init__(self, marker: str, delay: float = 0.1) -> None:
        self.marker = marker
        self.delay = delay

    def transition(self, key: Any, start: str, finish: str, **kwargs: Any) -> None:
        if finish != "executing":
            return
        try:
            fd = os.open(self.marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
        except FileExistsError:
            return
        with os.fdopen(fd, "w") as fh:
            fh.write(f"{os.getpid()} {key}\n")
        timer = threading.Timer(self.delay, os.kill, (os.getpid(), signal.SIGKILL))
        timer.daemon = True
        timer.start()
