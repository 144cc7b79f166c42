"""Import runs: the key of a file import, resuming, progress and the test pause hook."""

from __future__ import annotations

import hashlib
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from geo._bounded import file_key
from geo._result import IngestResult
from geo.store.imports import runs_of_key, start_run

BATCH_SIZE = 50_000
#: Environment variable of the test hook (see the module documentation).
PAUSE_ENV = "LAGESBILD_TEST_PAUSE_AFTER_BATCH"
#: Occurrences later than now plus this are ``future_timestamp``.


def import_key(data: bytes, options: dict[str, Any]) -> str:
    """sha256 of the file bytes and the import options (the import run's key)."""
    return _with_options(hashlib.sha256(data), options)


def import_key_of_file(path: str | Path, options: dict[str, Any]) -> str:
    """:func:`import_key` of a file, read in blocks (the same key, bounded memory)."""
    return _with_options(file_key(path), options)


def _with_options(h: hashlib._Hash, options: dict[str, Any]) -> str:
    h.update(b"\x00")
    h.update(json.dumps(options, sort_keys=True, ensure_ascii=False).encode("utf-8"))
    return h.hexdigest()


def _begin_run(
    engine: Engine, key: str, file_name: str, options: dict[str, Any], read: int
) -> tuple[int, int, IngestResult]:
    """Find the unfinished run for ``key`` or start a new one: ``(id, rows_done, counts)``."""
    with engine.begin() as conn:
        runs = runs_of_key(conn, key)
        if runs and runs[0].status == "running":
            run = runs[0]
            counts = IngestResult.from_counts(dict(run.counts or {}))
            counts.read = read
            return int(run.id), int(run.rows_done), counts
        new_key = key if not runs else f"{key}:{len(runs)}"
        run_id = start_run(conn, new_key, file_name, options)
    return run_id, 0, IngestResult(read=read)


def _pause_hook(batch_no: int) -> None:
    spec = os.environ.get(PAUSE_ENV)
    if not spec:
        return
    n, _, secs = spec.partition(":")
    if batch_no == int(n):
        print(f"lagesbild: paus efter batch {batch_no}", file=sys.stderr, flush=True)
        time.sleep(float(secs or 600))


def _progress(total_bytes: int, name: str, enabled: bool) -> Any:
    """A tqdm bar over the file's bytes on stderr (None when off or not a terminal)."""
    if not enabled:
        return None
    from tqdm import tqdm

    return tqdm(
        total=total_bytes,
        desc=name,
        unit="B",
        unit_scale=True,
        file=sys.stderr,
        disable=None,  # off when stderr is not a terminal
        leave=False,
    )


__all__ = ["BATCH_SIZE", "PAUSE_ENV", "import_key", "import_key_of_file"]
