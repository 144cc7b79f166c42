"""A throwaway PostgreSQL/PostGIS server for the test session (test helper).

:class:`PostgresServer` runs ``initdb`` in a fresh temporary folder, starts the cluster on
a free port on 127.0.0.1 (no Unix socket outside the folder, no durability: ``fsync`` off)
and stops it and removes the folder at the end. PostgreSQL refuses to run as root: when
the tests run as root the cluster runs as the system user ``postgres`` (created by
Debian's package) or else ``nobody``, and owns the folder.

Every test database is cloned from a template that already has ``CREATE EXTENSION
postgis``, so a fresh database costs one ``CREATE DATABASE``.

``make system-deps`` installs Debian's ``postgresql`` and ``postgresql-15-postgis-3``.
"""

from __future__ import annotations

import glob
import itertools
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path
from typing import Any

USER = "lagesbild"
TEMPLATE = "lagesbild_template"
MIGRATED = "lagesbild_migrated"
INSTALL_HINT = (
    "PostgreSQL/PostGIS saknas: kör `make system-deps` (som root) eller "
    "`sudo apt-get install postgresql postgresql-15-postgis-3`"
)


def _bindir() -> Path:
    """Folder of ``initdb`` and ``pg_ctl`` (the newest installed major version)."""
    found = shutil.which("pg_config")
    candidates = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"),
        key=lambda p: int(Path(p).parts[-3]) if Path(p).parts[-3].isdigit() else 0,
    )
    if candidates:
        return Path(candidates[-1]).parent
    if found:
        out = subprocess.run([found, "--bindir"], capture_output=True, text=True, check=True)
        if (Path(out.stdout.strip()) / "initdb").exists():
            return Path(out.stdout.strip())
    initdb = shutil.which("initdb")
    if initdb:
        return Path(initdb).parent
    raise RuntimeError(INSTALL_HINT)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _run_as() -> pwd.struct_passwd | None:
    """Unprivileged account to run the cluster as (None: the current, non-root user)."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        try:
            return pwd.getpwnam(name)
        except KeyError:
            continue
    raise RuntimeError("ingen opriviligierad användare (postgres/nobody) att köra PostgreSQL som")


class PostgresServer:
    """A PostgreSQL cluster in a temporary folder, listening on ``127.0.0.1:port``."""

    def __init__(self) -> None:
        self.bindir = _bindir()
        self.account = _run_as()
        self.folder = Path(tempfile.mkdtemp(prefix="lagesbild-pg-"))
        self.data = self.folder / "data"
        self.port = _free_port()
        self._names = itertools.count(1)
        self._has_migrated = False
        if self.account is not None:
            os.chown(self.folder, self.account.pw_uid, self.account.pw_gid)

    # ------------------------------------------------------------------ processes
    def _run(self, *args: str) -> subprocess.CompletedProcess[str]:
        kwargs: dict[str, Any] = {}
        if self.account is not None:
            kwargs = {
                "user": self.account.pw_uid,
                "group": self.account.pw_gid,
                "extra_groups": [],
            }
        env = dict(os.environ, LC_ALL="C.UTF-8", LANG="C.UTF-8")
        proc = subprocess.run(
            [str(self.bindir / args[0]), *args[1:]],
            capture_output=True,
            text=True,
            cwd=self.folder,
            env=env,
            **kwargs,
        )
        if proc.returncode != 0:
            log = self.folder / "server.log"
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            raise RuntimeError(f"{args[0]} misslyckades: {proc.stderr.strip()}\n{tail}")
        return proc

    def start(self) -> PostgresServer:
        """``initdb`` and ``pg_ctl start``; creates the PostGIS template database."""
        self._run("initdb", "-D", str(self.data), "-U", USER, "-A", "trust", "-E", "UTF8")
        options = " ".join(
            [
                f"-p {self.port}",
                "-c listen_addresses=127.0.0.1",
                f"-c unix_socket_directories={self.folder}",
                "-c fsync=off",
                "-c synchronous_commit=off",
                "-c full_page_writes=off",
                "-c max_connections=200",
                "-c shared_buffers=64MB",
            ]
        )
        log = str(self.folder / "server.log")
        data = str(self.data)
        self._run("pg_ctl", "start", "-w", "-t", "60", "-D", data, "-l", log, "-o", options)
        self._sql("postgres", f"CREATE DATABASE {TEMPLATE}")
        self._sql(TEMPLATE, "CREATE EXTENSION postgis")
        return self

    def stop(self) -> None:
        """Stop the cluster (fast shutdown) and remove its folder."""
        try:
            if (self.data / "postmaster.pid").exists():
                self._run("pg_ctl", "stop", "-w", "-m", "fast", "-D", str(self.data))
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)

    # ------------------------------------------------------------------ databases
    def url(self, database: str) -> str:
        """SQLAlchemy URL of ``database`` (driver psycopg 3)."""
        return f"postgresql+psycopg://{USER}@127.0.0.1:{self.port}/{database}"

    def _sql(self, database: str, statement: str) -> None:
        import psycopg

        with psycopg.connect(
            host="127.0.0.1", port=self.port, user=USER, dbname=database, autocommit=True
        ) as conn:
            conn.execute(statement)  # type: ignore[arg-type]

    def new_database(self, migrated: bool = False) -> str:
        """Create a database with PostGIS (``migrated``: at the newest revision); its URL."""
        name = f"test_{os.getpid()}_{next(self._names)}"
        template = self._migrated_template() if migrated else TEMPLATE
        self._sql("postgres", f"CREATE DATABASE {name} TEMPLATE {template}")
        return self.url(name)

    def _migrated_template(self) -> str:
        """A template at the newest migration, made on first use (a clone costs ~0.1 s)."""
        if not self._has_migrated:
            from geo.store import connect, upgrade

            self._sql("postgres", f"CREATE DATABASE {MIGRATED} TEMPLATE {TEMPLATE}")
            engine = connect(self.url(MIGRATED))
            upgrade(engine)
            engine.dispose()
            self._has_migrated = True
        return MIGRATED

    def drop_database(self, url: str) -> None:
        """Drop the database of ``url`` (closing what is still connected to it)."""
        name = url.rsplit("/", 1)[1]
        self._sql("postgres", f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
