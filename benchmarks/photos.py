"""Photo re-encoding benchmark: time and peak memory of one citizen photo, with a reference.

Makes a phone-sized JPEG (``--megapixels``, default 48, just under 8 MB) and runs
:func:`webmap.citizen.photos.clean_photo` on it in a fresh process per run, measuring the
wall time and the growth of the peak resident memory. The reference is the same call
with the JPEG decoder's DCT scaling switched off (the photo is decoded at full size), as
a plain "open, rotate, resize, save" would do. Prints one JSON object with the medians
of ``--runs`` runs each and the ratios reference / ours. Usage::

    python benchmarks/photos.py [--megapixels 48] [--runs 3]
"""

from __future__ import annotations

import argparse
import io
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CHILD = r"""
import io, json, resource, sys, time
from webmap.citizen.photos import Upload, clean_photo
if sys.argv[2] == "reference":
    from PIL import JpegImagePlugin
    JpegImagePlugin.JpegImageFile.draft = lambda self, *a, **k: None
data = open(sys.argv[1], "rb").read()
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
start = time.perf_counter()
photo = clean_photo(Upload("bild.jpg", "image/jpeg", io.BytesIO(data)))
seconds = time.perf_counter() - start
grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
print(json.dumps({"s": seconds, "mb": grown / 1024, "size": [photo.width, photo.height]}))
"""


def _photo(path: Path, megapixels: float) -> int:
    import numpy as np
    from PIL import Image

    width = int((megapixels * 1e6 * 4 / 3) ** 0.5)
    height = int(width * 3 / 4)
    rng = np.random.default_rng(1)
    base = Image.fromarray(rng.integers(0, 255, (300, 400, 3), dtype=np.uint8))
    out = io.BytesIO()
    base.resize((width, height), Image.Resampling.BICUBIC).save(out, "JPEG", quality=80)
    path.write_bytes(out.getvalue())
    return len(out.getvalue())


def _run(path: Path, mode: str) -> dict[str, float]:
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(path), mode],
        capture_output=True,
        text=True,
        check=True,
        env=env,
    )
    return dict(json.loads(done.stdout))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--megapixels", type=float, default=48.0)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "photo.jpg"
        nbytes = _photo(path, args.megapixels)
        results: dict[str, list[dict[str, float]]] = {"ours": [], "reference": []}
        started = time.perf_counter()
        for _ in range(args.runs):
            for mode in results:
                results[mode].append(_run(path, mode))
    med = {
        mode: {
            "seconds": round(statistics.median(r["s"] for r in runs), 3),
            "peak_mb": round(statistics.median(r["mb"] for r in runs), 1),
        }
        for mode, runs in results.items()
    }
    print(
        json.dumps(
            {
                "megapixels": args.megapixels,
                "upload_bytes": nbytes,
                "stored_size": results["ours"][0]["size"],
                "runs": args.runs,
                "ours": med["ours"],
                "reference_full_decode": med["reference"],
                "time_ratio_reference_over_ours": round(
                    med["reference"]["seconds"] / med["ours"]["seconds"], 2
                ),
                "memory_ratio_reference_over_ours": round(
                    med["reference"]["peak_mb"] / max(med["ours"]["peak_mb"], 0.1), 2
                ),
                "wall_s": round(time.perf_counter() - started, 1),
                "cpus": os.cpu_count(),
            }
        )
    )


if __name__ == "__main__":
    main()
