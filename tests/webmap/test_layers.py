"""Layer APIs: compact cells, coarsening, GeoJSON, public suppression, caching."""

from __future__ import annotations

import json
from typing import Any

import numpy as np

from geo.cells import cells_resolution, points_to_cells, strings_to_cells
from webmap.render.layers import cells_payload, coarsen, public_cells_payload


def test_cells_payload_is_compact_and_round_trips() -> None:
    rng = np.random.default_rng(1)
    cells = np.unique(
        points_to_cells(59.76 + rng.random(3000) * 0.05, 18.70 + rng.random(3000) * 0.1, 10)
    )
    w = rng.random(len(cells)) * 5
    z = rng.normal(size=len(cells))
    payload = cells_payload(cells, w, z, max_cells=100_000)
    body = json.dumps(payload, separators=(",", ":"))
    assert len(body) / len(cells) <= 60
    assert set(strings_to_cells(payload["ids"]).tolist()) == set(cells.tolist())
    assert payload["res"] == 10 and not payload["coarsened"]


def test_coarsening_keeps_totals_and_max_z() -> None:
    rng = np.random.default_rng(2)
    cells = np.unique(
        points_to_cells(59.7 + rng.random(20000) * 0.2, 18.6 + rng.random(20000) * 0.3, 10)
    )
    w = np.ones(len(cells))
    z = rng.normal(size=len(cells))
    c, ww, zz, res = coarsen(cells, w, z, max_cells=2000)
    assert len(c) <= 2000 and res < 10
    assert cells_resolution(c) == res
    assert np.isclose(ww.sum(), w.sum())
    assert np.isclose(np.nanmax(zz), z.max())
    payload = cells_payload(cells, w, z, max_cells=2000)
    assert payload["coarsened"] and payload["n"] == len(c)


def test_public_payload_suppresses_small_counts() -> None:
    import pandas as pd

    now = pd.Timestamp.now(tz="UTC") - pd.Timedelta(days=40)
    busy = points_to_cells([59.76] * 5, [18.70] * 5, 10)
    lonely = points_to_cells([59.80], [18.80], 10)
    frame = pd.DataFrame(
        {
            "cell": np.concatenate([busy, lonely]).astype(np.uint64),
            "category": ["klotter"] * 6,
            "occurred_at": [now] * 6,
            "status": ["approved"] * 6,
        }
    )
    payload = public_cells_payload(frame, k=3, res=9, as_of=pd.Timestamp.now(tz="UTC"))
    assert payload["n"] == 1 and payload["c"] == [5]


def test_planner_layers_serve_demo_data(
    demo_app: Any, client: Any, make_user: Any, login: Any
) -> None:
    creds = make_user("reader")
    login(client, creds.username, creds.password)
    week = "vecka=2026-W47"
    loc = client.get(f"/api/karta/norrtalje/tatorter?{week}").get_json()
    assert len(loc["features"]) >= 3
    names = {f["properties"]["name"] for f in loc["features"]}
    assert {"Norrtälje", "Rimbo", "Hallstavik"} <= names
    zones = client.get(f"/api/karta/norrtalje/zoner?{week}").get_json()
    assert len(zones["features"]) >= 2
    props = zones["features"][0]["properties"]
    assert props["explanation"] and props["pattern_sv"] and len(props["series"]) == 26
    cells = client.get(f"/api/karta/norrtalje/celler?{week}")
    data = cells.get_json()
    assert data["n"] > 10 and len(data["ids"]) == len(data["w"]) == len(data["z"])
    assert len(cells.data) / data["n"] <= 60
    # other filters give another (cached) result
    evening = client.get(f"/api/karta/norrtalje/zoner?{week}&tid=kvall").get_json()
    assert isinstance(evening["features"], list)
    assert client.get("/api/karta/norrtalje/celler?vecka=nonsens").status_code == 400
    assert client.get("/api/karta/okand/celler").status_code == 404


def test_results_are_cached_on_disk_per_data_version(demo_app: Any) -> None:
    from webmap.results import ResultStore
    from webmap.state import EXTENSION_KEY

    state = demo_app.extensions[EXTENSION_KEY]
    store = ResultStore(state.engine, state.instance_dir / "cache" / "analysis")
    first = store.get("norrtalje", "2026-W47")
    assert first is not None
    folder = store.path_for("norrtalje", first.version, "x").parent
    assert any(folder.iterdir())
    fresh = ResultStore(state.engine, state.instance_dir / "cache" / "analysis")
    again = fresh.get("norrtalje", "2026-W47", compute=False)
    assert again is not None and len(again.zones) == len(first.zones)
    from conftest import insert_synthetic

    insert_synthetic(demo_app, seed=5, n_weeks=2)
    assert fresh.get("norrtalje", "2026-W47", compute=False) is None  # new data version
    assert not folder.exists() or fresh.get("norrtalje", "2026-W47") is not None


def test_analysed_week_keeps_its_zones_in_the_store_for_gis(demo_app: Any) -> None:
    import shapely
    from shapely.geometry import shape

    from geo.store.zones import read_zones
    from webmap.results import Filters, ResultStore
    from webmap.state import EXTENSION_KEY

    state = demo_app.extensions[EXTENSION_KEY]
    store = ResultStore(state.engine, state.instance_dir / "cache" / "analysis")
    result = store.get("norrtalje", "2026-W47")
    assert result is not None and result.zones
    with state.engine.connect() as conn:
        stored = read_zones(conn, "norrtalje", "2026-W47")
    assert [z["zone_id"] for z in stored] == sorted(str(z["id"]) for z in result.zones)
    by_id = {str(z["id"]): z for z in result.zones}
    for row in stored:
        zone = by_id[row["zone_id"]]
        assert row["grade"] == zone["grade"] and row["data_version"] == result.version
        assert row["n_cells"] == len(zone["cells"])
        assert shapely.equals_exact(row["geometry"], shape(zone["geometry"]), tolerance=1e-9)
    # a filtered view of the week is not the week's picture: the stored zones stay
    store.get("norrtalje", "2026-W47", Filters(sources=("citizen",)))
    with state.engine.connect() as conn:
        again = read_zones(conn, "norrtalje", "2026-W47")
    assert [z["zone_id"] for z in again] == [z["zone_id"] for z in stored]


def test_public_start_page_is_small_and_public(demo_app: Any, client: Any) -> None:
    page = client.get("/")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Logga in" in html and "cdn" not in html.lower()
    data = client.get("/api/publik/norrtalje/celler").get_json()
    assert data["k"] == 3
    assert all(c >= 3 for c in data["c"])
    assert "description" not in json.dumps(data)


def test_new_boundaries_reach_a_running_app_without_restart(
    demo_app: Any, client: Any, make_user: Any, login: Any
) -> None:
    from geo.boundaries import read_boundaries, store_boundaries
    from geo.store.db import bump_version
    from webmap.state import EXTENSION_KEY

    creds = make_user("reader")
    login(client, creds.username, creds.password)
    url = "/api/karta/norrtalje/tatorter?vecka=2026-W47"
    before = {f["properties"]["name"] for f in client.get(url).get_json()["features"]}
    assert "Rimbo" in before
    engine = demo_app.extensions[EXTENSION_KEY].engine
    with engine.begin() as conn:  # what `lagesbild boundaries import` does
        frame = read_boundaries(conn, "norrtalje", "locality")
        frame.loc[frame["name"] == "Rimbo", "name"] = "Rimbo (officiell)"
        store_boundaries(conn, frame, source="test")
        bump_version(conn, "norrtalje")
    after = {f["properties"]["name"] for f in client.get(url).get_json()["features"]}
    assert "Rimbo (officiell)" in after and "Rimbo" not in after
