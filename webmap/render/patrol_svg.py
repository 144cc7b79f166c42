"""Static SVG map of a patrol plan (the printable sheet ``/patrull/utskrift``)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import shapely

from geo.geodesy import METRES_PER_DEGREE
from webmap.patrol.plan import distance_sv


# --------------------------------------------------------------------------- static map
def _svg_map(
    areas: Sequence[tuple[int, Any, tuple[float, float]]],
    bbox: tuple[float, float, float, float],
    localities: Any,
    width: int,
    height: int,
    places: Sequence[Mapping[str, Any]] = (),
    min_span_m: float = 1200.0,
) -> dict[str, Any]:
    """SVG shapes of one static map (equirectangular around ``bbox``; fine at town scale).

    ``areas`` are ``(step, geometry, (lat, lon) of the number)``; ``bbox`` is
    ``(minx, miny, maxx, maxy)`` in degrees and is padded and widened to at least
    ``min_span_m``; localities are grey context, ``places`` (``name``, ``lat``, ``lon``)
    labelled dots. Coordinates are pixels (numbers only, nothing from users).
    """
    minx, miny, maxx, maxy = bbox
    lat0 = (miny + maxy) / 2.0
    kx = math.cos(math.radians(lat0))
    min_deg = min_span_m / METRES_PER_DEGREE
    w_deg = max((maxx - minx) * kx, min_deg) * 1.3
    h_deg = max(maxy - miny, min_deg * height / width) * 1.3
    cx, cy = (minx + maxx) / 2.0, (miny + maxy) / 2.0
    scale = min(width / w_deg, height / h_deg)  # pixels per projected degree

    def xy(lon: float, lat: float) -> tuple[float, float]:
        return (
            round(width / 2 + (lon - cx) * kx * scale, 1),
            round(height / 2 - (lat - cy) * scale, 1),
        )

    def path(geom: Any) -> str:
        parts: list[str] = []
        polys = list(geom.geoms) if hasattr(geom, "geoms") else [geom]
        for poly in polys:
            if poly.is_empty or poly.geom_type != "Polygon":
                continue
            for ring in (poly.exterior, *poly.interiors):
                pts = [xy(x, y) for x, y in ring.coords]
                parts.append("M" + " L".join(f"{a},{b}" for a, b in pts) + " Z")
        return " ".join(parts)

    half_w, half_h = width / 2 / (kx * scale), height / 2 / scale
    box = (cx - half_w, cy - half_h, cx + half_w, cy + half_h)
    context = []
    if localities is not None and len(localities):
        for name, geom in zip(localities["name"], localities.geometry.to_numpy(), strict=True):
            if geom is None or geom.is_empty:
                continue
            clipped = shapely.clip_by_rect(geom, *box)
            d = "" if clipped.is_empty else path(clipped)
            if d:
                context.append({"d": d, "name": str(name)})
    shapes, labels = [], []
    for step, geom, (lat, lon) in areas:
        clipped = shapely.clip_by_rect(geom, *box)
        if clipped.is_empty:
            continue
        x, y = xy(lon, lat)
        shapes.append({"d": path(clipped), "step": step})
        if 0 <= x <= width and 0 <= y <= height:
            labels.append({"step": step, "x": x, "y": y})
    dots = []
    for p in places:
        x, y = xy(float(p["lon"]), float(p["lat"]))
        if 4 <= x <= width - 4 and 4 <= y <= height - 4:
            dots.append({"name": str(p["name"]), "x": x, "y": y, "right": x < width * 0.6})
    metres_per_px = METRES_PER_DEGREE / scale
    bar_m = 50.0
    for candidate in (50, 100, 200, 250, 500, 1000, 2000, 5000, 10000, 20000, 50000):
        if candidate / metres_per_px <= width * 0.3:
            bar_m = float(candidate)
    return {
        "width": width,
        "height": height,
        "context": context,
        "areas": shapes,
        "labels": labels,
        "places": dots,
        "bar_px": round(bar_m / metres_per_px, 1),
        "bar_text": distance_sv(bar_m),
    }


def plan_svg(
    view: Mapping[str, Any], localities: Any, width: int = 640, height: int = 400
) -> dict[str, Any] | None:
    """Static maps of a plan for the printable sheet (None without areas).

    ``overview``: every area numbered in walking order over the localities; ``details``:
    one map per area (about 1.2 km across) with its nearby named places.
    """
    areas = view.get("areas") or []
    if not areas:
        return None
    items = [
        (int(a["step"]), shapely.geometry.shape(a["outline"]), (a["centre"][0], a["centre"][1]))
        for a in areas
    ]
    everything = shapely.union_all([g for _s, g, _c in items]).bounds
    overview = _svg_map(items, everything, localities, width, height, min_span_m=2000.0)
    details = []
    for a, (_step, geom, _centre) in zip(areas, items, strict=True):
        near = [
            {"name": p["name"], "lat": p["lat"], "lon": p["lon"]}
            for p in a.get("near", [])
            if "lat" in p and "lon" in p
        ]
        # numbers at the areas' north-west corners, clear of the place labels
        corners = [(s, g, (g.bounds[3], g.bounds[0])) for s, g, _c in items]
        details.append(
            {
                "step": a["step"],
                "name": a["name"],
                "map": _svg_map(corners, geom.bounds, localities, 320, 240, places=near),
            }
        )
    return {"overview": overview, "details": details}


__all__ = [
    "plan_svg",
]
