"""Benchmark: gazetteer lookup of 85,011 real police event texts (summary + body).

Times :meth:`geo.gazetteer.Gazetteer.lookup_many` (accents stripped by one Aho-Corasick
pass, then one case-insensitive Rust-regex alternation per kommun, both run by polars over
all texts) against a per-text Python loop (:func:`~geo.gazetteer.fold`, then Python ``re``
with the same names), on the texts of ``../shared/data/real/polisen-events/polisen_events.csv.gz``.
Rounds are interleaved and the median is reported. Prints one JSON object::

    python benchmarks/gazetteer.py [--rounds 3] [--kommun norrtalje] [--events PATH]
"""

from __future__ import annotations

import argparse
import json
import platform
import re
import statistics
import time
from pathlib import Path

import pandas as pd

from geo.gazetteer import Gazetteer, fold

#: The full police archive (default: the shared data folder beside the project).
EVENTS = (
    Path(__file__).resolve().parents[2]
    / "shared"
    / "data"
    / "real"
    / "polisen-events"
    / "polisen_events.csv.gz"
)


def load_texts(path: Path = EVENTS) -> list[str]:
    """Summary and body text of every event, joined."""
    ev = pd.read_csv(path, usecols=["summary", "body_text"])
    return (ev["summary"].fillna("") + "\n" + ev["body_text"].fillna("")).tolist()


def naive(gaz: Gazetteer, texts: list[str], kommun: str | None) -> int:
    """Per-text Python loop: fold, then Python ``re`` with the same alternation."""
    index = gaz._index(kommun)
    alts = sorted(index.places, key=lambda k: (-len(k), k))
    rx = re.compile(r"\b(?:" + "|".join(alts) + r")s?\b")
    found = 0
    for text in texts:
        if rx.findall(fold(text)):
            found += 1
    return found


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--kommun", default="norrtalje")
    parser.add_argument("--events", type=Path, default=EVENTS, help="polisen_events.csv.gz")
    args = parser.parse_args()
    kommun = None if args.kommun in ("", "none", "None") else args.kommun
    texts = load_texts(args.events)
    t0 = time.perf_counter()
    gaz = Gazetteer.default()
    build_s = time.perf_counter() - t0
    ours, base = [], []
    result = None
    n_naive = 0
    for _ in range(args.rounds):
        gaz._indexes.clear()
        t0 = time.perf_counter()
        result = gaz.lookup_many(texts, kommun)
        ours.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        n_naive = naive(gaz, texts, kommun)
        base.append(time.perf_counter() - t0)
    assert result is not None
    found = int(result["precision"].notna().sum())
    print(
        json.dumps(
            {
                "benchmark": "gazetteer.lookup_many",
                "texts": len(texts),
                "mean_chars": round(sum(map(len, texts)) / len(texts), 1),
                "kommun": kommun,
                "gazetteer_entries": len(gaz),
                "gazetteer_build_s": round(build_s, 3),
                "lookup_many_s": round(statistics.median(ours), 3),
                "python_re_loop_s": round(statistics.median(base), 3),
                "speedup": round(statistics.median(base) / statistics.median(ours), 1),
                "texts_per_s": round(len(texts) / statistics.median(ours)),
                "texts_with_match": found,
                "texts_with_match_naive": n_naive,
                "by_precision": result["precision"].value_counts().to_dict(),
                "rounds": args.rounds,
                "python": platform.python_version(),
            }
        )
    )


if __name__ == "__main__":
    main()
