"""The stored forecaster choice per kommun and week (SQLite and PostgreSQL)."""

from __future__ import annotations

from sqlalchemy.engine import Engine

from geo.store.forecast import latest_forecast_choice, save_forecast_choice


def _choice(weeks_hit: int, hl: float | None = 13.0) -> dict[str, object]:
    return {
        "method": "lagesbild",
        "params": {"half_life_weeks": hl, "k": 1, "fallback": False},
        "fallback": False,
        "weeks_checked": 10,
        "weeks_hit": weeks_hit,
        "coverage": 0.05,
        "hit_rate": 0.61,
        "pei_star": 0.52,
        "interval_coverage": 0.79,
    }


def test_choice_is_stored_replaced_and_read_back_by_week(engine: Engine) -> None:
    with engine.begin() as conn:
        save_forecast_choice(conn, "norrtalje", "2026-W46", _choice(6))
        save_forecast_choice(conn, "norrtalje", "2026-W47", _choice(7, None))
        save_forecast_choice(conn, "norrtalje", "2026-W47", _choice(8, None))  # re-run
        save_forecast_choice(conn, "kungsor", "2026-W48", _choice(2))
    with engine.connect() as conn:
        row = latest_forecast_choice(conn, "norrtalje", "2026-W47")
        assert row is not None
        assert (row["weeks_hit"], row["params"]["half_life_weeks"]) == (8, None)
        assert row["hit_rate"] == 0.61 and row["fallback"] is False
        # a later week without its own choice shows the latest one before it
        assert latest_forecast_choice(conn, "norrtalje", "2026-W52")["week"] == "2026-W47"  # type: ignore[index]
        assert latest_forecast_choice(conn, "norrtalje", "2026-W46")["weeks_hit"] == 6  # type: ignore[index]
        assert latest_forecast_choice(conn, "norrtalje", "2026-W45") is None
        assert latest_forecast_choice(conn, "kungsor")["weeks_hit"] == 2  # type: ignore[index]
