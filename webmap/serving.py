"""Run the production WSGI server (waitress) in a background thread.

Used by the browser tests and the benchmarks: the same server as ``lagesbild serve``,
bound to the loopback address on a free port, stopped cleanly.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
import urllib.request
from types import TracebackType
from typing import Any

from waitress.server import create_server


class BackgroundServer:
    """A waitress server for ``app`` on ``127.0.0.1`` in a daemon thread.

    Parameters
    ----------
    app
        WSGI application.
    threads
        Worker threads of waitress.
    host
        Loopback address to bind (never a public interface).

    Examples
    --------
    >>> with BackgroundServer(app) as server:  # doctest: +SKIP
    ...     urllib.request.urlopen(server.url + "healthz")
    """

    def __init__(self, app: Any, threads: int = 4, host: str = "127.0.0.1") -> None:
        if not host.startswith("127.") and host not in ("localhost", "::1"):
            raise ValueError("BackgroundServer only binds to the loopback interface")
        self._server: Any = create_server(
            app,
            host=host,
            port=0,
            threads=threads,
            ident="lagesbild",
            clear_untrusted_proxy_headers=True,
        )
        self.host = host
        self.port = int(self._server.effective_port)
        self._thread = threading.Thread(target=self._run, name="waitress", daemon=True)
        self._stopped = False

    @property
    def url(self) -> str:
        """Base URL with a trailing slash, e.g. ``http://127.0.0.1:41234/``."""
        return f"http://{self.host}:{self.port}/"

    def _run(self) -> None:
        try:
            self._server.run()
        except Exception:  # pragma: no cover - raised only while shutting down
            if not self._stopped:
                raise

    def start(self, timeout: float = 10.0) -> BackgroundServer:
        """Start serving and wait until ``/healthz`` answers."""
        self._thread.start()
        deadline = time.monotonic() + timeout
        while True:
            try:
                with urllib.request.urlopen(self.url + "healthz", timeout=2) as resp:
                    if resp.status == 200:
                        return self
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def stop(self, timeout: float = 10.0) -> None:
        """Close every channel, stop the worker threads and join the loop thread."""
        if self._stopped:
            return
        self._stopped = True
        server = self._server
        server.logger.setLevel(logging.FATAL)
        deadline = time.monotonic() + timeout
        while server._map and time.monotonic() < deadline:
            for channel in list(server._map.values()):
                with contextlib.suppress(Exception):  # best effort while closing
                    channel.handle_close()
        server.maintenance(0)
        server.task_dispatcher.shutdown()
        self._thread.join(max(0.0, deadline - time.monotonic()))

    def __enter__(self) -> BackgroundServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
