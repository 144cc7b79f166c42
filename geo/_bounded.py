"""Bounded input: files read through limits on decompressed size, ratio and row length.

Every reader of :mod:`geo.readers` reads through :class:`BoundedInput`, so a compressed or
zipped file that expands beyond :class:`ReadLimits` stops with a clear Swedish error
instead of filling the memory, and a CSV row longer than ``max_row_bytes`` is refused
before it is held as one string. The limits are settings (environment variables, see
:meth:`ReadLimits.from_env` and the README); the defaults keep the peak memory of
``lagesbild ingest`` under 1 GB whatever the size of the file.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, cast

from geo.errors import ValidationError

GZIP_MAGIC = b"\x1f\x8b"
ZIP_MAGIC = b"PK\x03\x04"
_MB = 1024 * 1024

#: Environment variables of the limits (with the prefix of every setting).
ENV_MAX_EXPANDED_MB = "LAGESBILD_IMPORT_MAX_EXPANDED_MB"
ENV_MAX_RATIO = "LAGESBILD_IMPORT_MAX_EXPANSION_RATIO"
ENV_MAX_ROW_KB = "LAGESBILD_IMPORT_MAX_ROW_KB"


@dataclass(frozen=True)
class ReadLimits:
    """Limits of one import.

    Attributes
    ----------
    max_expanded_bytes
        Largest size of a compressed file's (gzip) or a workbook's (xlsx) content once
        unpacked, and of a GeoJSON/JSON file read whole. Default 2 GiB.
    max_ratio
        Largest ratio of unpacked to packed size (checked once more than
        ``ratio_floor_bytes`` are unpacked). Default 100 (text compresses 5-15 times).
    ratio_floor_bytes
        Unpacked size below which the ratio is not checked (small files of repeated text
        compress very well). Default 1 MiB.
    max_row_bytes
        Longest CSV row (bytes). Default 1 MiB.
    """

    max_expanded_bytes: int = 2048 * _MB
    max_ratio: float = 100.0
    ratio_floor_bytes: int = 1 * _MB
    max_row_bytes: int = 1 * _MB

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> ReadLimits:
        """Limits from ``LAGESBILD_IMPORT_MAX_EXPANDED_MB``, ``…_MAX_EXPANSION_RATIO`` and
        ``…_MAX_ROW_KB`` (defaults for unset ones)."""
        env = os.environ if env is None else env
        base = cls()
        problems: list[str] = []

        def number(name: str, default: float) -> float:
            text = env.get(name, "").strip()
            if not text:
                return default
            try:
                value = float(text)
            except ValueError:
                value = -1.0
            if value <= 0:
                problems.append(f"{name} måste vara ett positivt tal, inte {text!r}")
                return default
            return value

        expanded = number(ENV_MAX_EXPANDED_MB, base.max_expanded_bytes / _MB)
        ratio = number(ENV_MAX_RATIO, base.max_ratio)
        row = number(ENV_MAX_ROW_KB, base.max_row_bytes / 1024)
        if problems:
            raise ValidationError(problems, context="inställningar")
        return cls(
            max_expanded_bytes=int(expanded * _MB),
            max_ratio=ratio,
            ratio_floor_bytes=base.ratio_floor_bytes,
            max_row_bytes=int(row * 1024),
        )


def file_key(path: str | Path) -> hashlib._Hash:
    """SHA-256 of the file's bytes as stored (read in 1 MiB blocks)."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(_MB), b""):
            h.update(block)
    return h


def _mb(n: float) -> str:
    return f"{n / _MB:,.0f}".replace(",", "\u00a0")


class BoundedInput:
    """A file opened for reading, gunzipped transparently, with the limits enforced.

    Use :meth:`readline` / :meth:`read` as on a binary file; :meth:`check` raises
    :class:`ValidationError` once the unpacked content passes a limit.
    """

    def __init__(self, path: str | Path, limits: ReadLimits) -> None:
        self.path = Path(path)
        self.limits = limits
        self._raw: IO[bytes] = open(self.path, "rb")  # noqa: SIM115 - closed in close()
        self.compressed = self._raw.read(2) == GZIP_MAGIC
        self._raw.seek(0)
        self._gz: gzip.GzipFile | None = (
            gzip.GzipFile(fileobj=self._raw, mode="rb") if self.compressed else None
        )
        self.stream: IO[bytes] = cast(IO[bytes], self._gz) if self._gz is not None else self._raw

    def __enter__(self) -> BoundedInput:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the file."""
        if self._gz is not None:
            self._gz.close()
        self._raw.close()

    @property
    def packed_position(self) -> int:
        """Bytes of the file read so far (for progress)."""
        return self._raw.tell()

    def check(self) -> None:
        """Raise when the unpacked content has passed a limit."""
        if self._gz is None:
            return
        unpacked = self._gz.tell()
        check_expansion(unpacked, max(1, self._raw.tell()), self.limits, self.path.name)

    def read(self, size: int) -> bytes:
        """Up to ``size`` bytes (checked against the limits)."""
        data = self.stream.read(size)
        self.check()
        return data

    def read_all(self) -> bytes:
        """The whole (unpacked) content, refused past ``max_expanded_bytes``."""
        parts: list[bytes] = []
        total = 0
        while True:
            block = self.stream.read(4 * _MB)
            if not block:
                break
            total += len(block)
            if total > self.limits.max_expanded_bytes:
                raise too_large(total, self.limits, self.path.name)
            self.check()
            parts.append(block)
        return b"".join(parts)


def too_large(size: int, limits: ReadLimits, name: str) -> ValidationError:
    """The error of content larger than ``max_expanded_bytes``."""
    return ValidationError(
        f"innehållet är större än {_mb(limits.max_expanded_bytes)} MB uppackat "
        f"(minst {_mb(size)} MB); dela upp filen eller höj gränsen med "
        f"{ENV_MAX_EXPANDED_MB}",
        context=name,
    )


def check_expansion(unpacked: int, packed: int, limits: ReadLimits, name: str) -> None:
    """Raise :class:`ValidationError` when ``unpacked`` bytes from ``packed`` pass a limit."""
    if unpacked > limits.max_expanded_bytes:
        raise too_large(unpacked, limits, name)
    if unpacked > limits.ratio_floor_bytes and unpacked > limits.max_ratio * packed:
        raise ValidationError(
            f"filen packas upp mer än {limits.max_ratio:g} gånger ({_mb(packed)} MB blir "
            f"över {_mb(unpacked)} MB): den ser ut som en dekomprimeringsbomb och läses "
            f"inte; höj gränsen med {ENV_MAX_RATIO} om filen är äkta",
            context=name,
        )


def check_zip(data: bytes, limits: ReadLimits, name: str) -> None:
    """Refuse a zip container (xlsx) whose members unpack past the limits.

    The sizes declared in the zip directory are the ones :mod:`zipfile` enforces while
    reading, so checking them bounds what openpyxl can unpack.
    """
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            unpacked = sum(info.file_size for info in zf.infolist())
    except zipfile.BadZipFile as exc:
        raise ValidationError(
            f"kan inte läsa filen som xlsx (ingen zip-fil): {exc}", context=name
        ) from exc
    check_expansion(unpacked, max(1, len(data)), limits, name)


__all__ = [
    "ENV_MAX_EXPANDED_MB",
    "ENV_MAX_RATIO",
    "ENV_MAX_ROW_KB",
    "GZIP_MAGIC",
    "ZIP_MAGIC",
    "BoundedInput",
    "ReadLimits",
    "check_expansion",
    "check_zip",
    "file_key",
    "too_large",
]
