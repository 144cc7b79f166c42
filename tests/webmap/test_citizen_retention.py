"""``lagesbild retention run``: citizen text is deleted after the period, the rest is kept."""

from __future__ import annotations

import json
from typing import Any

from _citizen import age_report, api_report, engine, report_by_receipt
from click.testing import CliRunner
from sqlalchemy import select

from geo.store.tables import moderation_log
from webmap.cli import main
from webmap.planner.moderation_service import decide


def _age(app: Any, receipt: str, days: int) -> None:
    age_report(app, receipt, days)


def test_retention_run_deletes_old_citizen_text_and_says_what(app: Any, client: Any) -> None:
    old = api_report(client, description="Anna Svensson står här", place="vid kiosken").get_json()
    new = api_report(client, description="Färsk text").get_json()
    rid = int(report_by_receipt(app, old["receipt"]).report_id)
    with engine(app).begin() as conn:
        decide(conn, rid, "approve", actor="planner", new_text="En person står här")
    _age(app, old["receipt"], 200)
    before = report_by_receipt(app, old["receipt"])

    env = {"LAGESBILD_DATABASE_URL": app.config["DATABASE_URL"]}
    result = CliRunner().invoke(main, ["retention", "run", "--days", "180", "--json"], env=env)
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["reports"] == 1 and summary["descriptions_deleted"] == 1
    assert summary["location_texts_deleted"] == 1 and summary["positions_coarsened"] == 1
    by_kommun = {k["kommun"]: k for k in summary["kommuner"]}
    assert by_kommun["norrtalje"]["days"] == 180

    after = report_by_receipt(app, old["receipt"])
    assert after.description is None and after.location_text is None
    assert (after.lat, after.lon) != (before.lat, before.lon)  # cell centre now
    assert after.cell == before.cell and after.category == before.category
    assert after.occurred_at == before.occurred_at and after.status == "approved"
    assert after.text_salt is None and after.text_deleted_at is not None
    with engine(app).connect() as conn:
        hashes = conn.execute(
            select(moderation_log.c.text_hash_before).where(moderation_log.c.report_id == rid)
        ).all()
    assert hashes  # the audit log stays, but without the salt it links to no text
    assert report_by_receipt(app, new["receipt"]).description == "Färsk text"

    # human-readable output and a second run that finds nothing
    again = CliRunner().invoke(main, ["retention", "run", "--days", "180"], env=env)
    assert again.exit_code == 0 and "totalt 0 rapporter" in again.output


def test_retention_dry_run_and_bad_days(app: Any, client: Any) -> None:
    body = api_report(client, description="Gammal text").get_json()
    _age(app, body["receipt"], 400)
    env = {"LAGESBILD_DATABASE_URL": app.config["DATABASE_URL"]}
    dry = CliRunner().invoke(main, ["retention", "run", "--dry-run", "--json"], env=env)
    assert dry.exit_code == 0 and json.loads(dry.stdout)["reports"] == 1
    assert report_by_receipt(app, body["receipt"]).description == "Gammal text"
    bad = CliRunner().invoke(main, ["retention", "run", "--days", "0"], env=env)
    assert bad.exit_code == 2
