"""``lagesbild demo``: generate and load the synthetic Norrtälje demo data."""

from __future__ import annotations

import datetime as dt
import json
import tempfile
from pathlib import Path
from typing import Any

import click
from sqlalchemy import Engine

from analysis.demo import (
    DEFAULT_END,
    DEFAULT_SEED,
    DEFAULT_WEEKS,
    DEMO_KOMMUN,
    DemoData,
    generate,
    write,
)
from geo.store.actions import insert_missing_actions
from geo.store.reports import backdate_filing, count_reports
from geo.tenants import seed_default_tenants
from webmap.cli.demo_actions import demo_actions
from webmap.db import open_database


@click.group("demo")
def cli() -> None:
    """Syntetiska demodata för Norrtälje (generera, ladda)."""


def _end_option(value: str | None) -> dt.date:
    if value is None:
        return DEFAULT_END
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise click.BadParameter(f"{value!r} är inget datum (ÅÅÅÅ-MM-DD)") from exc


@cli.command("generate")
@click.argument("out_dir", type=click.Path(file_okay=False, path_type=Path))
@click.option("--seed", default=DEFAULT_SEED, show_default=True, type=int)
@click.option("--weeks", default=DEFAULT_WEEKS, show_default=True, type=int)
@click.option("--end", default=None, help=f"Sista rapporteringsdag (standard {DEFAULT_END}).")
@click.option("--json", "as_json", is_flag=True, help="Skriv ett JSON-objekt på stdout.")
def generate_cmd(out_dir: Path, seed: int, weeks: int, end: str | None, as_json: bool) -> None:
    """Skriv ett syntetiskt datamaterial (reports.csv, truth.json, actions.json) i OUT_DIR."""
    demo = generate(seed=seed, weeks=weeks, end=_end_option(end))
    actions = demo_actions(demo)
    paths = write(demo, out_dir, actions)
    summary: dict[str, Any] = {
        "out_dir": str(out_dir),
        "files": {k: str(p) for k, p in paths.items()},
        "reports": int(len(demo.reports)),
        "hotspots": [
            {"name": h["name"], "pattern": h["pattern"], "weeks_active": len(h["weeks_active"])}
            for h in demo.truth["hotspots"]
        ],
        "actions": len(actions),
        "synthetic": True,
    }
    if as_json:
        click.echo(json.dumps(summary, ensure_ascii=False))
        return
    click.echo(f"{summary['reports']} syntetiska rapporter skrivna till {out_dir}")
    for h in summary["hotspots"]:
        click.echo(f"  planterad hotspot: {h['name']} ({h['pattern']}, {h['weeks_active']} veckor)")


def _store_actions(engine: Engine, demo: DemoData) -> int:
    """Insert the demo actions that are not stored yet; return how many."""
    with engine.begin() as conn:
        return insert_missing_actions(conn, DEMO_KOMMUN, demo_actions(demo), created_by="demo")


#: Weeks before the latest for which the demo records a meeting (the last one published).
DEMO_MEETING_WEEKS = 3
DEMO_MEETING_COMMENT = "[demo] Mötet följde förslaget."


def _demo_meetings(engine: Engine, weeks: int = DEMO_MEETING_WEEKS) -> list[str]:
    """Record the demo's meeting history; return the weeks it covers.

    For each of the ``weeks`` weeks before the latest, the "meeting" (user ``demo``) sets
    the suggested grade of every primary locality with the comment
    :data:`DEMO_MEETING_COMMENT`, and the last of those weeks is published (HTML + PDF).
    So a fresh demo shows published grades on the public map and a history in the
    meeting's comparison table, while the latest week stays open for the user's own
    meeting.
    """
    if weeks < 1:
        return []
    from geo.boundaries import read_boundaries
    from geo.store.grades import set_grade, store_publication
    from webmap.config import load_config
    from webmap.planner.weekly import build_weekly
    from webmap.render.reports import render_weekly_html, render_weekly_pdf, weekly_images
    from webmap.results import ResultStore
    from webmap.weeks import shift_week

    cfg = load_config()
    store = ResultStore(engine, Path(cfg["INSTANCE_DIR"]) / "cache" / "analysis")
    with engine.connect() as conn:
        localities = read_boundaries(conn, DEMO_KOMMUN, "locality")
    primary = set(localities.loc[localities["primary"].astype(bool), "code"].astype(str))
    latest = store.latest_week(DEMO_KOMMUN)
    done: list[str] = []
    for back in range(weeks, 0, -1):
        week = shift_week(latest, -back)
        res = store.get(DEMO_KOMMUN, week)
        if res is None:
            continue
        with engine.begin() as conn:
            for loc in res.localities:
                if str(loc["locality"]) not in primary:
                    continue
                set_grade(
                    conn,
                    DEMO_KOMMUN,
                    week,
                    str(loc["locality"]),
                    int(loc["grade"]),
                    DEMO_MEETING_COMMENT,
                    "demo",
                    suggested_grade=int(loc["grade"]),
                    suggested_explanation=str(loc.get("explanation") or ""),
                )
        done.append(week)
    if done:
        pic = build_weekly(engine, store, DEMO_KOMMUN, done[-1])
        images = weekly_images(pic)
        html, pdf = render_weekly_html(pic, images), render_weekly_pdf(pic, images)
        with engine.begin() as conn:
            store_publication(conn, DEMO_KOMMUN, done[-1], "demo", pic.data_version, html, pdf)
    return done


@cli.command("load")
@click.option("--seed", default=DEFAULT_SEED, show_default=True, type=int)
@click.option(
    "--keep",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Spara de genererade filerna i denna mapp.",
)
@click.option("--json", "as_json", is_flag=True, help="Skriv ett JSON-objekt på stdout.")
def load_cmd(seed: int, keep: Path | None, as_json: bool) -> None:
    """Ladda demodata i en tom databas (gör inget om det redan finns rapporter)."""
    engine = open_database()
    with engine.connect() as conn:
        existing = count_reports(conn)
    if existing:
        msg = f"databasen har redan {existing} rapporter; demodata laddas inte"
        if as_json:
            click.echo(json.dumps({"loaded": False, "reason": msg, "reports": existing}))
        else:
            click.echo(msg)
        return
    with engine.begin() as conn:
        created = seed_default_tenants(conn)
    today = dt.date.today()
    end = min(DEFAULT_END, today - dt.timedelta(days=1))
    demo = generate(seed=seed, end=end)
    try:
        from geo.ingest import ingest_file
    except ImportError as exc:  # pragma: no cover - the ingest pipeline ships with geo
        raise click.ClickException(f"importen (geo.ingest) saknas: {exc}") from exc
    with tempfile.TemporaryDirectory(prefix="lagesbild-demo-") as tmp:
        out = keep or Path(tmp)
        paths = write(demo, out, demo_actions(demo))
        click.echo(f"importerar {len(demo.reports)} syntetiska rapporter …", err=True)
        result = ingest_file(engine, paths["reports"], kommun=DEMO_KOMMUN)
    with engine.begin() as conn:
        # public numbers only include reports stored before the latest snapshot (Monday
        # 00:00): without this a freshly loaded demo would show an empty public map
        backdate_filing(conn, DEMO_KOMMUN)
    actions = _store_actions(engine, demo)
    meetings = _demo_meetings(engine)
    summary = {
        "loaded": True,
        "synthetic": True,
        "seed": seed,
        "end": demo.truth["end"],
        "tenants_created": created,
        "read": int(result.read),
        "stored": int(result.stored),
        "duplicates": int(result.duplicates),
        "quarantined": int(result.quarantined),
        "reasons": dict(result.reasons),
        "precision": dict(result.precision),
        "actions": actions,
        "meetings": meetings,
        "published": meetings[-1] if meetings else None,
        "note": None,
        "files": str(keep) if keep else None,
    }
    if as_json:
        click.echo(json.dumps(summary, ensure_ascii=False))
        return
    click.echo(
        f"demodata laddade: {summary['stored']} rapporter, {summary['quarantined']} i karantän, "
        f"{actions} åtgärder (syntetiska, seed {seed})"
    )
    if meetings:
        click.echo(
            f"demomöten: bedömningar satta för {', '.join(meetings)}; {meetings[-1]} publicerad"
        )
