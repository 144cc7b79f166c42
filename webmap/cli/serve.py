"""``lagesbild serve``: the production WSGI server (waitress, or granian).

One process serves with ``--threads`` threads. With ``--processes N`` (Linux), N worker
processes each bind the same port with ``SO_REUSEPORT`` and the kernel spreads the
connections between them; SQLite in WAL mode handles the concurrent writers. Rate-limit
counters are kept per process (``lagesbild-memory://``); point
``LAGESBILD_RATELIMIT_STORAGE_URI`` at a shared storage (e.g. Redis) for exact per-client
limits across processes.

``--server granian`` serves through Granian (HTTP handled in Rust, the app in
``--threads`` Python threads per process, ``--processes`` processes); the trusted
proxy's ``X-Forwarded-For``/``-Proto`` are then applied by :class:`TrustedProxy`
(``--connection-limit`` applies to waitress only).
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import socket
import sys
from collections.abc import Callable, Iterable
from typing import Any

import click


def _listening_socket(host: str, port: int, reuseport: bool, backlog: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if reuseport:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    sock.listen(backlog)
    return sock


def _start_mail_worker(config: dict[str, Any]) -> None:
    """Send the mail outbox in a background thread of this process (when mail is on)."""
    from webmap.db import open_database
    from webmap.mail.sender import MailWorker, SmtpSettings

    settings = SmtpSettings.from_config(config)
    if settings is not None:
        engine = open_database(config, migrate=False)
        interval = float(config.get("MAIL_INTERVAL", 30.0))
        MailWorker(engine, settings, interval, str(config.get("BASE_URL") or "")).start()


def _serve_worker(options: dict[str, Any]) -> None:
    """Run one waitress server (in this process) with ``options`` from :func:`cli`."""
    from waitress import serve

    from webmap.app import create_app
    from webmap.config import load_config

    # waitress warns on every queued request under load; the queue depth is not an error
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)
    config = load_config()
    app = create_app(config)
    _start_mail_worker(config)
    sock = _listening_socket(
        options["host"], options["port"], options["reuseport"], options["backlog"]
    )
    waitress_options: dict[str, Any] = {
        "threads": options["threads"],
        "ident": "lagesbild",
        "backlog": options["backlog"],
        "connection_limit": options["connection_limit"],
    }
    if options["trusted_proxy"]:
        waitress_options.update(
            trusted_proxy=options["trusted_proxy"],
            trusted_proxy_headers="x-forwarded-for x-forwarded-proto",
            trusted_proxy_count=1,
            clear_untrusted_proxy_headers=True,
        )
    serve(app, sockets=[sock], **waitress_options)


#: Environment variable handing the trusted proxy to granian's worker processes.
TRUSTED_PROXY_ENV = "LAGESBILD_SERVE_TRUSTED_PROXY"


class TrustedProxy:
    """WSGI middleware: the client address and scheme a trusted proxy forwarded.

    As waitress does with ``trusted_proxy`` (one proxy hop): a request from
    ``proxy`` gets ``REMOTE_ADDR`` from the last ``X-Forwarded-For`` entry and
    ``wsgi.url_scheme`` from ``X-Forwarded-Proto``; any other request loses its
    ``X-Forwarded-*`` headers.
    """

    def __init__(self, app: Callable[..., Iterable[bytes]], proxy: str) -> None:
        self.app = app
        self.proxy = proxy

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        if environ.get("REMOTE_ADDR") == self.proxy:
            hops = [h.strip() for h in environ.get("HTTP_X_FORWARDED_FOR", "").split(",")]
            if hops and hops[-1]:
                environ["REMOTE_ADDR"] = hops[-1]
            proto = environ.get("HTTP_X_FORWARDED_PROTO", "").strip().lower()
            if proto in ("http", "https"):
                environ["wsgi.url_scheme"] = proto
        else:
            for key in [k for k in environ if k.startswith("HTTP_X_FORWARDED_")]:
                del environ[key]
        return self.app(environ, start_response)


def granian_app() -> Any:
    """The app of one granian worker process (a factory: ``webmap.cli.serve:granian_app``)."""
    from webmap.app import create_app
    from webmap.config import load_config

    config = load_config()
    app: Any = create_app(config)
    _start_mail_worker(config)
    proxy = os.environ.get(TRUSTED_PROXY_ENV, "")
    return TrustedProxy(app, proxy) if proxy else app


def _serve_granian(options: dict[str, Any], processes: int) -> None:
    from granian import Granian  # type: ignore[attr-defined]
    from granian.constants import Interfaces

    os.environ[TRUSTED_PROXY_ENV] = options["trusted_proxy"]
    Granian(
        "webmap.cli.serve:granian_app",
        address=options["host"],
        port=options["port"],
        interface=Interfaces.WSGI,
        workers=processes,
        blocking_threads=options["threads"],
        backlog=options["backlog"],
        factory=True,
        log_access=False,
    ).serve()


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Adress att lyssna på.")
@click.option("--port", default=8000, show_default=True, type=int, help="Port.")
@click.option(
    "--threads", default=8, show_default=True, type=click.IntRange(1), help="Trådar per process."
)
@click.option(
    "--processes",
    default=1,
    show_default=True,
    type=click.IntRange(1),
    help="Serverprocesser som delar porten (SO_REUSEPORT, Linux); t.ex. en per kärna.",
)
@click.option(
    "--trusted-proxy",
    default="",
    help="Adress till en omvänd proxy vars X-Forwarded-For/-Proto ska litas på.",
)
@click.option("--connection-limit", default=1000, show_default=True, type=click.IntRange(1))
@click.option(
    "--server",
    type=click.Choice(["waitress", "granian"]),
    default="waitress",
    show_default=True,
    help="WSGI-server: waitress (Python) eller granian (HTTP i Rust).",
)
def cli(
    host: str,
    port: int,
    threads: int,
    processes: int,
    trusted_proxy: str,
    connection_limit: int,
    server: str,
) -> None:
    """Starta webbtjänsten (waitress eller granian)."""
    if processes > 1 and not hasattr(socket, "SO_REUSEPORT"):
        raise click.UsageError("--processes > 1 kräver SO_REUSEPORT (Linux).")
    options = {
        "host": host,
        "port": port,
        "threads": threads,
        "reuseport": processes > 1,
        "backlog": 2048,
        "connection_limit": connection_limit,
        "trusted_proxy": trusted_proxy,
    }
    click.echo(
        f"lagesbild på http://{host}:{port}/ ({server}, {processes} process(er) × {threads} "
        "trådar)",
        err=True,
    )
    if server == "granian":
        from webmap.app import create_app
        from webmap.config import load_config

        create_app(load_config())  # database, migrations and the secret key, once
        _serve_granian(options, processes)
        return
    if processes == 1:
        _serve_worker(options)
        return
    # database, migrations and the secret key are created once here, before the workers
    from webmap.app import create_app
    from webmap.config import load_config

    create_app(load_config())
    context = multiprocessing.get_context("spawn")
    workers = [
        context.Process(target=_serve_worker, args=(options,), daemon=True)
        for _ in range(processes)
    ]
    for worker in workers:
        worker.start()

    def stop(signum: int, _frame: object) -> None:
        for worker in workers:
            if worker.is_alive():
                worker.terminate()
        for worker in workers:
            worker.join(timeout=10)
        sys.exit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    while True:
        for worker in workers:
            worker.join(timeout=1.0)
            if not worker.is_alive():
                click.echo(
                    f"serverprocess {worker.pid} avslutades (kod {worker.exitcode})", err=True
                )
                stop(signal.SIGTERM, None)
