"""The built wheel stands on its own: installed (not editable) it finds its data and runs.

The wheel is built from this checkout without network (``--no-build-isolation``), installed
with ``--no-deps`` into a target folder that is put first on ``PYTHONPATH`` (the
dependencies come from the test environment), and the command line runs from an empty
directory elsewhere: nothing may be read from the source tree or from ``../shared``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

#: Run-time data the product reads, relative to the installed packages.
PACKAGE_DATA = (
    "geo/data/boundaries/localities.geojson",
    "geo/data/boundaries/kommuner.geojson",
    "geo/data/gazetteer/places.csv",
    "geo/data/gazetteer/sweden.csv.gz",
    "geo/data/mappings/vancouver.toml",
)

_PROBE = """
import json, geo, webmap
from geo.boundaries import load_boundaries
from geo.gazetteer import Gazetteer
from geo.mapping import Mapping
gaz = Gazetteer.default(["norrtalje", "1480"])  # 1480 = Göteborg
m = gaz.lookup("Stökigt vid Busstorget", kommun="norrtalje")
g = gaz.lookup("Bråk i Göteborg", kommun="1480")
print(json.dumps({
    "geo": geo.__file__, "webmap": webmap.__file__,
    "localities": len(load_boundaries("locality")),
    "busstorget": m.name if m else None, "goteborg": g.locality if g else None,
    "mapping": Mapping.from_file("vancouver").name,
}))
"""


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Target folder with the wheel built from this checkout installed (no deps)."""
    base = tmp_path_factory.mktemp("wheel")
    src, dist, target = base / "src", base / "dist", base / "site"
    # build from a clean copy: no stale build/ folder, nothing written into the checkout
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for name in ("geo", "analysis", "webmap"):
        shutil.copytree(ROOT / name, src / name, ignore=ignore)
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, src / name)
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "--no-input"]
    subprocess.run(
        [*pip, "wheel", str(src), "--no-deps", "--no-build-isolation", "-q", "-w", str(dist)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    (wheel,) = dist.glob("lagesbild-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert set(PACKAGE_DATA) <= names
    assert not any(n.startswith(("tests/", "data/", "benchmarks/")) for n in names)
    subprocess.run(
        [*pip, "install", "--no-deps", "--no-index", "-q", "--target", str(target), str(wheel)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    return target


def _run(target: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LAGESBILD_")}
    env.update(
        PYTHONPATH=str(target),
        LAGESBILD_DATABASE_URL=f"sqlite:///{cwd / 'lagesbild.db'}",
        LAGESBILD_INSTANCE_DIR=str(cwd / "instance"),
    )
    return subprocess.run(
        [sys.executable, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=600
    )


@pytest.mark.slow
def test_installed_wheel_finds_its_data_and_loads_the_demo(installed: Path, tmp_path: Path) -> None:
    work = tmp_path / "elsewhere"
    work.mkdir()
    probe = _run(installed, work, "-c", _PROBE)
    assert probe.returncode == 0, probe.stderr
    got = json.loads(probe.stdout)
    # the installed copy is imported, not the source tree
    assert Path(got["geo"]).is_relative_to(installed)
    assert Path(got["webmap"]).is_relative_to(installed)
    assert got["localities"] == 38
    assert got["busstorget"] == "Busstorget"
    assert got["goteborg"] == "1480TC108"  # SCB code of the tätort Göteborg
    assert got["mapping"] == "vancouver.toml"

    cli = ("-c", "import sys; from webmap.cli import main; sys.exit(main())")
    up = _run(installed, work, *cli, "db", "upgrade")
    assert up.returncode == 0, up.stderr
    demo = _run(installed, work, *cli, "demo", "load")
    assert demo.returncode == 0, demo.stderr
    assert (work / "lagesbild.db").stat().st_size > 100_000
    assert "Traceback" not in demo.stderr
