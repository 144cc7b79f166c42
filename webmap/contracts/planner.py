"""Contracts of the planner's JSON routes (``/api/karta/<kommun>/…``, login required)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal, TypeAlias

from pydantic import Field

from geo.schema import Source
from webmap.contracts.common import Query, Reply, text
from webmap.weeks import TIME_OF_DAY

if TYPE_CHECKING:  # the allowed values are read from the code lists at run time
    SourceCode: TypeAlias = str
    TimeOfDayFilter: TypeAlias = str
else:
    SourceCode = Literal[tuple(s.value for s in Source)]
    TimeOfDayFilter = Literal[tuple(TIME_OF_DAY)]


class MapQuery(Query):
    """Filters of the planner map layers (repeat a parameter or give a comma list)."""

    vecka: text(20, pattern=r"^\d{4}-W\d{2}$") | None = Field(  # type: ignore[valid-type]
        None, description="ISO week (2026-W05); default: the latest analysed week."
    )
    kategori: text(1000) | None = Field(None, description="Categories, comma separated.")  # type: ignore[valid-type]
    kalla: SourceCode | None = Field(None, description="Source (repeat for several).")
    tid: TimeOfDayFilter | None = Field(None, description="Time of day; default: all.")


class CellsQuery(MapQuery):
    """Filters of the cell layer and the largest number of cells before coarsening."""

    max: int | None = Field(None, ge=100, le=50_000)


class LayerData(Reply):
    """Layer data of the planner map (GeoJSON or columnar cells)."""


__all__ = ["CellsQuery", "LayerData", "MapQuery"]
