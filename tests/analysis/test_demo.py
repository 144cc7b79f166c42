"""Synthetic demo data: reproducible, labelled, realistic, and its planted truth holds."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from analysis._mannkendall import mann_kendall
from analysis.demo import CSV_COLUMNS, DemoData, generate, write
from geo.boundaries import assign_points, load_boundaries
from geo.cells import (
    cells_to_neighbour_pairs,
    cells_to_parent,
    cells_to_strings,
    points_to_cells,
    strings_to_cells,
)
from geo.gazetteer import Gazetteer
from geo.schema import CATEGORY_CODES
from geo.store import connect, report, upgrade
from geo.tenants import seed_default_tenants

TZ = ZoneInfo("Europe/Stockholm")
PRIMARY = {"0188TC109", "0188TB111", "0188TB106"}


@pytest.fixture(scope="module")
def demo() -> DemoData:
    return generate()


def _digest(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def test_same_seed_gives_byte_identical_files(demo: DemoData, tmp_path: Path) -> None:
    write(demo, tmp_path / "a")
    write(generate(), tmp_path / "b")
    assert _digest(tmp_path / "a") == _digest(tmp_path / "b")
    assert set(_digest(tmp_path / "a")) == {
        "README.txt",
        "actions.json",
        "reports.csv",
        "truth.json",
    }
    other = generate(seed=7, weeks=20)
    write(other, tmp_path / "c")
    assert _digest(tmp_path / "c")["reports.csv"] != _digest(tmp_path / "a")["reports.csv"]


def test_clearly_labelled_synthetic(demo: DemoData, tmp_path: Path) -> None:
    paths = write(demo, tmp_path)
    truth = json.loads(paths["truth"].read_text(encoding="utf-8"))
    assert truth["synthetic"] is True
    assert json.loads(paths["actions"].read_text("utf-8")) == []  # actions come from webmap
    readme = paths["readme"].read_text(encoding="utf-8")
    assert "SYNTETISKA DEMODATA" in readme and "SYNTHETIC" in readme
    rep = demo.reports
    assert rep["description"].str.startswith("[demo] ").all()
    assert rep["external_id"].str.startswith("demo-").all() and rep["external_id"].is_unique
    orgs = rep["reporter_org"].dropna()
    assert len(orgs) > 0 and orgs.str.endswith("(demo)").all()


def test_schema_and_positions(demo: DemoData, tmp_path: Path) -> None:
    paths = write(demo, tmp_path)
    csv = pd.read_csv(paths["reports"], dtype=str, keep_default_na=False)
    assert tuple(csv.columns) == CSV_COLUMNS
    occurred = pd.to_datetime(csv["occurred_at"], format="ISO8601", utc=True)
    assert csv["occurred_at"].str.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]0[12]:00$").all()
    assert (csv["kommun"] == "norrtalje").all()
    periods = demo.truth["periods"]
    assert len(periods) == 52 and periods[-1]["end"] == "2026-11-17T13:00:00+01:00"
    assert occurred.min() >= pd.Timestamp(periods[0]["start"])
    assert occurred.max() < pd.Timestamp(periods[-1]["end"])
    rep = demo.reports
    has_xy = rep["lat"].notna()
    loc = load_boundaries("locality", "norrtalje")
    inside = assign_points(rep.loc[has_xy, "lat"], rep.loc[has_xy, "lon"], loc)
    assert set(inside) <= PRIMARY  # every point lies in one of the three localities
    assert {c: int((inside == c).sum()) for c in PRIMARY}["0188TB111"] > 300
    police = rep["source"] == "police"
    assert police.sum() > 50 and rep.loc[police, "lat"].isna().all()
    gaz = Gazetteer.default()
    found = gaz.lookup_many(rep.loc[police, "location_text"].tolist(), "norrtalje")
    assert set(found["precision"]) == {"locality", "kommun"}  # police: never a cell


def test_all_sources_and_categories(demo: DemoData) -> None:
    rep = demo.reports
    assert set(rep["source"]) == {"actor", "citizen", "patrol", "police"}
    assert set(rep["category"]) == set(CATEGORY_CODES)
    assert set(rep["severity"]) <= {1, 2, 3, 4, 5}
    citizen = rep[rep["source"] == "citizen"]
    assert (citizen["category"] == "otrygg_plats").mean() > 0.15
    # about 15 reporting actors per locality
    actors = rep.loc[rep["source"] == "actor", ["reporter_org", "location_text"]]
    assert 40 <= actors["reporter_org"].nunique() <= 50
    for org in ("Norrtäljehem (demo)", "Campus Roslagen (demo)", "ICA Kvantum Norrtälje (demo)"):
        assert org in set(actors["reporter_org"])
    assert rep["reporter_org"].str.contains("Socialtjänsten").any()


def test_actors_file_by_tuesday_1300(demo: DemoData) -> None:
    rep = demo.reports
    actor = rep[rep["source"] == "actor"]
    occurred = pd.to_datetime(actor["occurred_at"], utc=True).dt.tz_convert(TZ)
    reported = pd.to_datetime(actor["reported_at"], utc=True).dt.tz_convert(TZ)
    assert set(reported.dt.weekday) <= {0, 1}  # Monday or Tuesday
    tuesday = reported.dt.weekday == 1
    minutes = reported.dt.hour * 60 + reported.dt.minute
    assert (minutes[tuesday] <= 13 * 60).all()
    assert (reported >= occurred).all()
    assert ((reported - occurred) <= pd.Timedelta(days=7)).all()
    # each actor files once a week: one filing time per actor and week
    week = reported.dt.strftime("%G-%V")
    per = pd.DataFrame({"org": actor["reporter_org"], "week": week, "t": reported})
    assert (per.groupby(["org", "week"])["t"].nunique() == 1).all()


def test_patrol_works_evenings_and_nights(demo: DemoData) -> None:
    rep = demo.reports
    patrol = pd.to_datetime(rep.loc[rep["source"] == "patrol", "occurred_at"], utc=True)
    hours = patrol.dt.tz_convert(TZ).dt.hour
    assert hours.isin([18, 19, 20, 21, 22, 23, 0, 1, 2, 3, 4]).mean() > 0.97
    days = patrol.dt.tz_convert(TZ).dt.weekday
    assert days.isin([3, 4, 5]).mean() > 0.6  # Thursday-Saturday


# -- planted truth ---------------------------------------------------------------------------


def _cube(demo: DemoData, res: int = 9) -> tuple[np.ndarray, np.ndarray]:
    """Counts per (cell, week) of reports with a cell, as the ingest would place them."""
    rep = demo.reports
    lat = rep["lat"].to_numpy(float).copy()
    lon = rep["lon"].to_numpy(float).copy()
    missing = np.flatnonzero(np.isnan(lat))
    found = Gazetteer.default().lookup_many(
        rep["location_text"].iloc[missing].tolist(), "norrtalje"
    )
    fine = found["precision"].isin(["point", "street"]).to_numpy()
    lat[missing[fine]] = found["lat"].to_numpy()[fine]
    lon[missing[fine]] = found["lon"].to_numpy()[fine]
    cells = cells_to_parent(points_to_cells(lat, lon, 10), res)
    ends = pd.to_datetime([p["end"] for p in demo.truth["periods"]], utc=True)
    occurred = pd.to_datetime(rep["occurred_at"], utc=True)
    week = np.searchsorted(ends.to_numpy(), occurred.to_numpy(), side="right")
    ok = cells != 0
    universe = np.unique(cells[ok])
    counts = np.zeros((universe.size, len(ends)))
    np.add.at(counts, (np.searchsorted(universe, cells[ok]), week[ok]), 1)
    return universe, counts


def _gi_star(universe: np.ndarray, x: np.ndarray, k: int = 1) -> np.ndarray:
    """Gi* z-scores per (cell, week), binary k-ring weights incl. self, global window."""
    n = universe.size
    i, j = cells_to_neighbour_pairs(universe, k=k, include_self=True)
    w = np.bincount(i, minlength=n).astype(float)
    lag = np.zeros_like(x)
    np.add.at(lag, i, x[j])
    mean, std = x.mean(), x.std()
    den = std * np.sqrt((n * w - w**2) / (n - 1))
    return (lag - w[:, None] * mean) / den[:, None]


def _pattern(z: np.ndarray, alpha: float = 0.05) -> str:
    """Emerging-hotspot rules (docs/domain.md) for one location (hot side and cold check)."""
    crit = 1.959964  # two-sided normal quantile for alpha = 0.05
    hot, cold = z > crit, z < -crit
    n = z.size
    share = hot.mean()
    trend = int(mann_kendall(z, alpha).trend[0])
    if hot[-1] and hot.sum() == 1:
        return "new_hot"
    if hot[-1] and share < 0.9:
        run = int(np.argmin(hot[::-1])) if not hot.all() else n
        if not hot[: n - run].any():
            return "consecutive_hot"
    if share >= 0.9 and hot[-1] and trend == 1:
        return "intensifying_hot"
    if share >= 0.9 and trend == 0:
        return "persistent_hot"
    if share >= 0.9 and hot[-1] and trend == -1:
        return "diminishing_hot"
    if hot[-1] and cold.any():
        return "oscillating_hot"
    if not hot[-1] and share >= 0.9:
        return "historical_hot"
    if hot.any() and not cold.any():
        return "sporadic_hot"
    return "no_pattern"


def _ring_sums(universe: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Reports in each cell's k = 1 ring (cell included) per week: the Gi* numerator."""
    i, j = cells_to_neighbour_pairs(universe, k=1, include_self=True)
    lag = np.zeros_like(x)
    np.add.at(lag, i, x[j])
    return lag


def test_truth_is_consistent_with_the_data(demo: DemoData) -> None:
    universe, x = _cube(demo)
    ring = _ring_sums(universe, x)
    spots = {h["key"]: h for h in demo.truth["hotspots"]}
    assert {h["pattern"] for h in spots.values()} == {
        "persistent_hot",
        "intensifying_hot",
        "new_hot",
        "sporadic_hot",
    }
    rows = {
        key: int(np.searchsorted(universe, strings_to_cells([h["centre_cell"]["9"]])[0]))
        for key, h in spots.items()
    }
    # background: cells at least 3 steps away from every planted centre
    i, j = cells_to_neighbour_pairs(universe, k=2, include_self=True)
    near = np.isin(i, list(rows.values()))
    background = np.delete(ring, np.unique(j[near]), axis=0)
    for key, h in spots.items():
        row = rows[key]
        assert universe[row] == strings_to_cells([h["cells"]["9"][0]])[0]
        ring_cells = set(cells_to_strings(universe[j[(i == row)]]).tolist())
        assert set(h["cells"]["9"]) <= ring_cells | set(h["cells"]["9"][:1])
        active = h["weeks_active"]
        quiet = [k for k in range(x.shape[1]) if k not in active]
        assert [k for k, c in enumerate(h["counts"]) if c] == active
        # the planted ring holds many more reports than background rings ...
        assert ring[row, active].min() > np.percentile(background, 99.9), key
        assert ring[row, active].mean() > 2 * background.max(), key
        assert ring[row, active].mean() > 10 * background.mean(), key
        # ... nearly all planted reports land in the ring ...
        assert ring[row, active].sum() >= 0.9 * sum(h["counts"]), key
        # ... and quiet weeks look like background (the town centre's, a bit busier)
        if quiet:
            assert ring[row, quiet].max() < ring[row, active].min(), key
            assert ring[row, quiet].mean() < 0.25 * ring[row, active].mean(), key
    # the centre cells hold the largest share (about 40 %) of all planted reports
    planted = sum(sum(h["counts"]) for h in spots.values())
    centre = sum(x[rows[k], spots[k]["weeks_active"]].sum() for k in spots)
    assert centre >= 0.3 * planted
    assert len(spots["busstorget"]["weeks_active"]) == 52
    assert len(spots["sodra_bergen"]["weeks_active"]) == 52
    assert spots["hallstaviks_torg"]["weeks_active"] == [51]
    assert 3 <= len(spots["rimbo_torg"]["weeks_active"]) < 0.5 * 52
    rising = spots["sodra_bergen"]["counts"]
    assert np.mean(rising[-8:]) > 1.7 * np.mean(rising[:8])
    # the planted centre is the centre of the res-9 cell holding the (approximate) place
    bus = spots["busstorget"]
    assert (bus["place_lat"], bus["place_lon"]) == (59.7577, 18.699)
    assert (
        points_to_cells([bus["place_lat"]], [bus["place_lon"]], 9)[0]
        == strings_to_cells([bus["centre_cell"]["9"]])[0]
    )
    assert (
        points_to_cells([bus["lat"]], [bus["lon"]], 10)[0]
        == strings_to_cells([bus["centre_cell"]["10"]])[0]
    )


def test_weekly_gi_star_recovers_the_planted_patterns(demo: DemoData) -> None:
    universe, x = _cube(demo)
    z = _gi_star(universe, x)
    for h in demo.truth["hotspots"]:
        row = np.searchsorted(universe, strings_to_cells([h["centre_cell"]["9"]])[0])
        assert _pattern(z[row]) == h["pattern"], (h["key"], np.round(z[row], 1))
    # the planted places dominate: few background cells are persistently hot
    patterns = [_pattern(z[r]) for r in range(universe.size)]
    assert patterns.count("persistent_hot") + patterns.count("intensifying_hot") < 20


def test_ingest_pipeline_reads_the_demo(demo: DemoData, tmp_path: Path, database_url: str) -> None:
    from geo.ingest import ingest_file

    paths = write(demo, tmp_path / "demo")
    engine = connect(database_url)
    upgrade(engine)
    with engine.begin() as conn:
        seed_default_tenants(conn)
    result = ingest_file(engine, paths["reports"], kommun="norrtalje")
    assert result.stored == len(demo.reports) and result.quarantined == 0
    with engine.connect() as conn:
        rows = conn.execute(
            select(report.c.source, report.c.precision, report.c.cell, report.c.locality)
        ).all()
        n = conn.execute(select(func.count()).select_from(report)).scalar_one()
    engine.dispose()
    assert n == len(demo.reports)
    frame = pd.DataFrame(rows, columns=["source", "precision", "cell", "locality"])
    police = frame[frame["source"] == "police"]
    assert police["precision"].isin(["locality", "kommun"]).all() and police["cell"].isna().all()
    assert (frame["precision"] == "point").mean() > 0.9
    assert set(frame["locality"].dropna()) >= PRIMARY


def test_product_analysis_recovers_the_planted_patterns(demo: DemoData, tmp_path: Path) -> None:
    """End to end: ingest, then lagesbild's own hotspot analysis (severity weights, FDR)."""
    from analysis.config import AnalysisConfig
    from analysis.hotspots import analyse
    from geo.ingest import ingest_file
    from geo.store.reports import read_reports

    paths = write(demo, tmp_path / "demo")
    engine = connect(f"sqlite:///{tmp_path / 'demo.db'}")
    upgrade(engine)
    with engine.begin() as conn:
        seed_default_tenants(conn)
    ingest_file(engine, paths["reports"], kommun="norrtalje")
    with engine.connect() as conn:
        reports = read_reports(conn, "norrtalje", status="approved")
    engine.dispose()
    localities = load_boundaries("locality", "norrtalje")
    localities = localities[localities["primary"]]
    for fdr in (True, False):
        cfg = AnalysisConfig(kommun="norrtalje", res=9, k=1, alpha=0.05, window="cube", fdr=fdr)
        cells = analyse(reports, localities, cfg).cells.set_index("cell")
        for h in demo.truth["hotspots"]:
            assert cells.loc[h["centre_cell"]["9"], "pattern"] == h["pattern"], (h["key"], fdr)


def test_cli_generate_and_load(tmp_path: Path) -> None:
    from webmap.cli import main

    env = {
        "LAGESBILD_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}",
        "LAGESBILD_INSTANCE_DIR": str(tmp_path / "instance"),
    }
    runner = CliRunner()
    out = tmp_path / "out"
    res = runner.invoke(
        main, ["demo", "generate", str(out), "--seed", "3", "--weeks", "12", "--json"], env=env
    )
    assert res.exit_code == 0, res.output
    summary = json.loads(res.stdout)
    assert summary["synthetic"] is True and (out / "truth.json").exists()
    assert json.loads((out / "truth.json").read_text("utf-8"))["weeks"] == 12
    res = runner.invoke(main, ["demo", "load", "--json"], env=env)
    assert res.exit_code == 0, res.output
    loaded = json.loads(res.stdout)
    assert loaded["loaded"] is True and loaded["stored"] > 3000 and loaded["quarantined"] == 0
    assert loaded["actions"] == 5
    # a meeting history: three weeks graded, the last of them published
    assert len(loaded["meetings"]) == 3 and loaded["published"] == loaded["meetings"][-1]
    res = runner.invoke(main, ["demo", "load", "--json"], env=env)
    assert res.exit_code == 0 and json.loads(res.stdout)["loaded"] is False


def test_loaded_demo_is_on_the_public_maps_at_once(tmp_path: Path) -> None:
    """The synthetic year counts as filed when it happened: public views are not empty."""
    from webmap.app import create_app
    from webmap.cli import main
    from webmap.config import TestConfig, load_config

    url = f"sqlite:///{tmp_path / 'cli.db'}"
    env = {"LAGESBILD_DATABASE_URL": url, "LAGESBILD_INSTANCE_DIR": str(tmp_path / "i")}
    res = CliRunner().invoke(main, ["demo", "load", "--json"], env=env)
    assert res.exit_code == 0, res.output
    published = json.loads(res.stdout)["published"]
    app = create_app(
        load_config(TestConfig, env={}, DATABASE_URL=url, INSTANCE_DIR=str(tmp_path / "i"))
    )
    client = app.test_client()
    start = client.get("/api/publik/norrtalje/celler").get_json()
    assert start["n"] > 0 and min(start["c"]) >= start["k"]
    public = client.get("/api/public/cells", query_string={"kommun": "norrtalje"}).get_json()
    assert public["cells"] == start["n"]
    # the demo meeting's published grades are public; the latest week is left open
    page = client.get("/karta/publik?kommun=norrtalje").get_data(as_text=True)
    year, week = published.split("-W")
    assert f"Publicerad bedömning för vecka {int(week)}, {year}" in page
    assert "Ingen bedömning har publicerats" not in page
    from webmap.results import ResultStore
    from webmap.state import EXTENSION_KEY

    store = ResultStore(app.extensions[EXTENSION_KEY].engine, tmp_path / "i" / "cache")
    assert published < store.latest_week("norrtalje")
