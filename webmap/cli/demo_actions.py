"""Actions (åtgärder) of the synthetic demo: the web app's part of ``lagesbild demo``."""

from __future__ import annotations

import datetime as dt
from typing import Any

from analysis.demo import DEMO_KOMMUN, DemoData, demo_places
from geo.cells import cells_to_strings, points_to_cells


def demo_actions(demo: DemoData) -> list[dict[str, Any]]:
    """Planned and running actions at the demo's named places (all ``[demo]``, public).

    Each is tied to the place's res-9 cells (a planted hotspot's cells when there is
    one) and dated relative to the demo's last reporting day.
    """
    end = dt.date.fromisoformat(demo.truth["requested_end"])
    places = demo_places()
    by_place = {s["place"]: s for s in demo.truth["hotspots"]}

    def at(place: str) -> dict[str, Any]:
        p = places[place]
        spot = by_place.get(place)
        cells = (
            spot["cells"]["9"]
            if spot
            else [str(cells_to_strings(points_to_cells([p["lat"]], [p["lon"]], 9))[0])]
        )
        return {
            "locality": p["locality"],
            "place": place,
            "lat": p["lat"],
            "lon": p["lon"],
            "cells": cells,
        }

    def day(weeks: int) -> str:
        return (end + dt.timedelta(weeks=weeks)).isoformat()

    items = [
        {
            "external_key": "demo:ombyggnad-busstationen",
            "title": "Ombyggnad av busstationen",
            "kind": "ombyggnad",
            "status": "pågår",
            "responsible": "Norrtälje kommun, samhällsbyggnadskontoret",
            "planned_start": day(-36),
            "planned_end": dt.date(end.year + 1, 6, 30).isoformat(),
            "description": "[demo] Busstorget byggs om för ökad trygghet: öppnare väntyta, "
            "bättre belysning och siktlinjer, flyttade cykelställ.",
            **at("Busstorget"),
        },
        {
            "external_key": "demo:ordningsvakter-busstorget",
            "title": "Ordningsvakter vid busstationen fredag-lördag kväll",
            "kind": "ordningsvakter",
            "status": "pågår",
            "responsible": "Trygg i Norrtälje kommun (TiNK)",
            "planned_start": day(-20),
            "planned_end": day(8),
            "description": "[demo] Två ordningsvakter kl. 19-02 fredag och lördag.",
            **at("Busstorget"),
        },
        {
            "external_key": "demo:belysning-sodra-bergen",
            "title": "Ny belysning Södra Bergen",
            "kind": "belysning",
            "status": "planerad",
            "responsible": "Norrtäljehem och Norrtälje kommun, gatuavdelningen",
            "planned_start": day(3),
            "planned_end": day(16),
            "description": "[demo] Ny och förstärkt belysning längs gångstråken genom "
            "Södra Bergen efter trygghetsvandring.",
            **at("Södra Bergen"),
        },
        {
            "external_key": "demo:kamera-hallstavik",
            "title": "Kameraövervakning Hallstaviks centrum",
            "kind": "kamerabevakning",
            "status": "planerad",
            "responsible": "Norrtälje kommun, trygghets- och säkerhetskontoret",
            "planned_start": day(8),
            "planned_end": day(30),
            "description": "[demo] Ansökan om kamerabevakning av torget i Hallstavik efter "
            "den senaste veckans händelser.",
            **at("Hallstaviks torg"),
        },
        {
            "external_key": "demo:foraldravandring-rimbo",
            "title": "Föräldravandringar i Rimbo",
            "kind": "trygghetsvandring",
            "status": "pågår",
            "responsible": "Trygg i Norrtälje kommun (TiNK) och föräldraföreningar",
            "planned_start": day(-30),
            "planned_end": day(22),
            "description": "[demo] Föräldrar rör sig i centrala Rimbo fredagskvällar.",
            **at("Rimbo torg"),
        },
    ]
    for item in items:
        item.update({"kommun": DEMO_KOMMUN, "public": True, "synthetic": True})
    return items


__all__ = ["demo_actions"]
