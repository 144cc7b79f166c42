"""Published documents: the weekly lägesbild and the yearly document, as HTML and PDF.

Maps are drawn with matplotlib from the stored geometries (no tiles), trend charts with
matplotlib, PDFs with reportlab (DejaVu Sans from matplotlib's fonts, so every Swedish
character renders). The HTML is self-contained (images as ``data:`` URIs) and rendered
by a standalone autoescaping Jinja environment, so it works from the CLI too. All user
text is escaped: Jinja autoescape in HTML, :func:`xml.sax.saxutils.escape` before any
reportlab ``Paragraph`` (whose mini-markup would otherwise interpret tags).
"""

from __future__ import annotations

import base64
import datetime as dt
import io
from collections.abc import Sequence
from pathlib import Path
from typing import Any, cast
from xml.sax.saxutils import escape

import matplotlib

matplotlib.use("Agg")

from jinja2 import Environment, FileSystemLoader, select_autoescape  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.patches import Polygon as MplPolygon  # noqa: E402
from shapely.geometry import shape  # noqa: E402

from analysis.grading import GRADE_COLOURS, GRADE_LABELS  # noqa: E402
from geo.labels import MONTHS_SV  # noqa: E402
from webmap.planner.actions import STATUS_LABELS_SV  # noqa: E402
from webmap.planner.weekly import LocalityWeek, WeeklyPicture, YearlyPicture  # noqa: E402
from webmap.weeks import shift_week, week_text_sv  # noqa: E402

TEMPLATES = Path(__file__).parents[1] / "templates" / "reports"


def _env() -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals.update(
        GRADE_LABELS=GRADE_LABELS, GRADE_COLOURS=GRADE_COLOURS, STATUS_LABELS_SV=STATUS_LABELS_SV
    )
    return env


# --------------------------------------------------------------------------- figures


def _png(fig: Figure, dpi: int = 110) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight")
    return buf.getvalue()


def _polys(geom: Any) -> list[Any]:
    if geom is None:
        return []
    if geom.geom_type == "Polygon":
        return [geom]
    if geom.geom_type == "MultiPolygon":
        return list(geom.geoms)
    return []


def locality_map_png(loc: LocalityWeek, actions: list[dict[str, Any]] | None = None) -> bytes:
    """A map image of a locality: outline in its grade colour, zones, action points."""
    fig = Figure(figsize=(4.2, 3.4))
    ax = fig.add_subplot(1, 1, 1)
    for poly in _polys(loc.geometry):
        ax.add_patch(
            MplPolygon(
                list(poly.exterior.coords),
                closed=True,
                facecolor=loc.grade_colour,
                alpha=0.25,
                edgecolor="#17324d",
                linewidth=1.2,
            )
        )
    for z in loc.zones:
        if not z.get("geometry"):
            continue
        for poly in _polys(shape(z["geometry"])):
            ax.add_patch(
                MplPolygon(
                    list(poly.exterior.coords),
                    closed=True,
                    facecolor=GRADE_COLOURS.get(z.get("grade") or 3, "#f2c94c"),
                    alpha=0.8,
                    edgecolor="#222",
                    linewidth=0.8,
                )
            )
        if z.get("lat") is not None:
            ax.annotate(
                str(z["name"])[:30], (z["lon"], z["lat"]), fontsize=6, ha="center", va="bottom"
            )
    for a in actions or []:
        if a.get("lat") is not None and a.get("locality") == loc.code:
            ax.plot(a["lon"], a["lat"], marker="o", markersize=5, color="#17324d")
    if loc.geometry is not None:
        minx, miny, maxx, maxy = loc.geometry.bounds
        pad = max(maxx - minx, maxy - miny) * 0.05 + 1e-4
        ax.set_xlim(minx - pad, maxx + pad)
        ax.set_ylim(miny - pad, maxy + pad)
        mid = (miny + maxy) / 2
        import math

        ax.set_aspect(1 / max(0.2, math.cos(math.radians(mid))))
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_title(f"{loc.name}: {loc.grade_label}", fontsize=9)
    return _png(fig)


def week_tick(label: str) -> str:
    """Short axis label of an ISO week label: ``2026-W47`` -> ``v47``."""
    return "v" + label.split("W")[-1].lstrip("0") if "W" in label else label


def weeks_ending(week: str, n: int) -> list[str]:
    """The ``n`` week labels ending with ``week`` (oldest first)."""
    return [shift_week(week, -i) for i in range(n - 1, -1, -1)]


def _week_axis(ax: Any, weeks: Sequence[str]) -> None:
    step = max(1, len(weeks) // 8)
    ticks = list(range(len(weeks)))[::-1][::step][::-1]
    ax.set_xticks(ticks)
    ax.set_xticklabels([week_tick(weeks[i]) for i in ticks], fontsize=6)
    ax.set_xlabel("vecka", fontsize=7)


def trend_png(values: Sequence[float], title: str, weeks: Sequence[str] = ()) -> bytes:
    """A small bar chart of a weekly series (latest bar highlighted, week labels)."""
    fig = Figure(figsize=(4.2, 1.8))
    ax = fig.add_subplot(1, 1, 1)
    vals = list(values) or [0]
    colours = ["#9fb3c8"] * (len(vals) - 1) + ["#c62828"]
    ax.bar(range(len(vals)), vals, color=colours)
    ax.set_title(title, fontsize=8)
    labels = list(weeks)[-len(vals) :]
    if len(labels) == len(vals):
        _week_axis(ax, labels)
    ax.tick_params(labelsize=6)
    for spine in ("top", "right"):
        ax.spines[spine].set_visible(False)
    return _png(fig)


def breakdown_png(by_source: dict[str, int], by_category: dict[str, int], title: str) -> bytes:
    """New reports of the week by source and by category (horizontal bars)."""
    fig = Figure(figsize=(6.4, 1.9))
    for pos, (name, counts) in enumerate((("Per källa", by_source), ("Per kategori", by_category))):
        ax = fig.add_subplot(1, 2, pos + 1)
        items = sorted(counts.items(), key=lambda kv: kv[1])[-8:]
        ax.barh([k for k, _ in items] or ["inga"], [v for _, v in items] or [0], color="#17324d")
        ax.set_title(name, fontsize=8)
        ax.tick_params(labelsize=6)
        for spine in ("top", "right"):
            ax.spines[spine].set_visible(False)
    fig.suptitle(title, fontsize=8)
    fig.tight_layout()
    return _png(fig)


def overview_png(pic: WeeklyPicture, n_weeks: int = 12) -> bytes:
    """Reports per week in each shown locality (one line each, week labels)."""
    weeks = weeks_ending(pic.week, n_weeks)
    fig = Figure(figsize=(6.4, 2.6))
    ax = fig.add_subplot(1, 1, 1)
    for loc in shown_localities(pic):
        vals = list(loc.series[-n_weeks:])
        if not vals:
            continue
        xs = list(range(len(weeks) - len(vals), len(weeks)))
        ax.plot(xs, vals, marker="o", markersize=3, linewidth=1.4, label=loc.name)
    _week_axis(ax, weeks)
    ax.set_ylabel("rapporter", fontsize=7)
    ax.set_title("Rapporter per vecka och tätort", fontsize=9)
    ax.tick_params(labelsize=6)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=6, ncol=3, frameon=False)
    for spine in ("top", "right"):
        ax.spines[spine].set_visible(False)
    return _png(fig)


def grade_text(loc: LocalityWeek) -> str:
    """The locality's grade in words: decided, carried over (with its week) or undecided."""
    if not loc.grade:
        return "ej beslutad"
    text = f"{loc.grade} {loc.grade_label}"
    if loc.grade_week:
        text += f" (publicerad {week_text_sv(loc.grade_week)}; ej beslutad denna vecka)"
    return text


def effect_png(series: Any, start_label: str) -> bytes:
    """Weekly weighted counts in the action's area vs the (scaled) rest of the locality."""
    fig = Figure(figsize=(5.5, 2.4))
    ax = fig.add_subplot(1, 1, 1)
    n = len(series)
    ax.plot(range(n), series["area"], marker="o", label="åtgärdens område", color="#c62828")
    ax.plot(range(n), series["rest"], marker=".", label="övriga tätorten (skalad)", color="#17324d")
    ax.axvline(n / 2 - 0.5, color="#555", linestyle="--", linewidth=1)
    ax.text(n / 2 - 0.4, ax.get_ylim()[1] * 0.95, f"start {start_label}", fontsize=7, va="top")
    try:
        first = dt.date.fromisoformat(start_label[:10]) - dt.timedelta(weeks=n // 2)
        iso = [(first + dt.timedelta(weeks=i)).isocalendar() for i in range(n)]
        _week_axis(ax, [f"{y}-W{w:02d}" for y, w, _ in iso])
    except ValueError:
        ax.set_xlabel("veckor före och efter start", fontsize=7)
    ax.set_ylabel("rapporter (allvarliga räknas mer)", fontsize=7)
    ax.tick_params(labelsize=6)
    ax.legend(fontsize=7)
    return _png(fig)


def month_png(by_month: Any, title: str) -> bytes:
    fig = Figure(figsize=(5.5, 2.2))
    ax = fig.add_subplot(1, 1, 1)
    months = [name[:3] for name in MONTHS_SV]  # jan, feb, ... dec
    ax.bar(months, by_month["count"], color="#17324d")
    ax.set_title(title, fontsize=8)
    ax.tick_params(labelsize=6)
    return _png(fig)


def _data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


# --------------------------------------------------------------------------- HTML


def weekly_images(pic: WeeklyPicture, primary_only: bool = True) -> dict[str, dict[str, bytes]]:
    """Map and trend PNG per locality (primary localities and any with zones)."""
    out = {}
    for loc in pic.localities:
        if primary_only and not loc.primary and not loc.zones:
            continue
        out[loc.code] = {
            "map": locality_map_png(loc, pic.actions),
            "trend": trend_png(
                loc.series[-12:], f"Rapporter per vecka, {loc.name}", weeks_ending(pic.week, 12)
            ),
            "breakdown": breakdown_png(
                loc.by_source, loc.by_category, f"Veckans rapporter, {loc.name}"
            ),
        }
    return out


def shown_localities(pic: WeeklyPicture) -> list[LocalityWeek]:
    """Localities in the report: the primary ones and any with a zone or a set grade."""
    return [loc for loc in pic.localities if loc.primary or loc.zones or loc.decision]


def render_weekly_html(
    pic: WeeklyPicture, images: dict[str, dict[str, bytes]] | None = None
) -> str:
    """Self-contained HTML of the weekly lägesbild."""
    images = images if images is not None else weekly_images(pic)
    uris = {code: {k: _data_uri(v) for k, v in imgs.items()} for code, imgs in images.items()}
    return (
        _env()
        .get_template("weekly.html")
        .render(
            pic=pic,
            localities=shown_localities(pic),
            images=uris,
            overview=_data_uri(overview_png(pic)),
            grade_text=grade_text,
            period=(
                pic.period_start.tz_convert(pic.tenant.timezone),
                pic.period_end.tz_convert(pic.tenant.timezone),
            ),
            generated=dt.datetime.now(dt.UTC).astimezone().strftime("%Y-%m-%d %H:%M"),
        )
    )


def render_yearly_html(pic: YearlyPicture) -> str:
    """Self-contained HTML of the yearly lägesbild and åtgärdsplan."""
    chart = _data_uri(month_png(pic.by_month, f"Rapporter per månad {pic.year}"))
    return (
        _env()
        .get_template("yearly.html")
        .render(
            pic=pic,
            month_chart=chart,
            generated=dt.datetime.now(dt.UTC).astimezone().strftime("%Y-%m-%d %H:%M"),
        )
    )


# --------------------------------------------------------------------------- PDF


def _fonts() -> tuple[str, str]:
    """Register DejaVu Sans (shipped with matplotlib) once; return (regular, bold)."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    if "DejaVuSans" not in pdfmetrics.getRegisteredFontNames():
        base = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
        pdfmetrics.registerFont(TTFont("DejaVuSans", str(base / "DejaVuSans.ttf")))
        pdfmetrics.registerFont(TTFont("DejaVuSans-Bold", str(base / "DejaVuSans-Bold.ttf")))
    return "DejaVuSans", "DejaVuSans-Bold"


def _styles() -> dict[str, Any]:
    from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet

    regular, bold = _fonts()
    base = getSampleStyleSheet()
    return {
        "title": ParagraphStyle("t", parent=base["Title"], fontName=bold, fontSize=17),
        "h2": ParagraphStyle("h2", parent=base["Heading2"], fontName=bold, fontSize=13),
        "h3": ParagraphStyle("h3", parent=base["Heading3"], fontName=bold, fontSize=10.5),
        "body": ParagraphStyle(
            "b", parent=base["BodyText"], fontName=regular, fontSize=9, leading=11.5
        ),
        "small": ParagraphStyle(
            "s",
            parent=base["BodyText"],
            fontName=regular,
            fontSize=7.5,
            leading=9,
            splitLongWords=0,  # whole words only ("Kamerabevakning", not "Kamerabevaknin g")
        ),
    }


def _p(text: Any, style: Any) -> Any:
    from reportlab.platypus import Paragraph

    return Paragraph(escape("" if text is None else str(text)), style)


def _table(rows: list[list[Any]], widths: list[float], st: dict[str, Any]) -> Any:
    from reportlab.lib import colors
    from reportlab.platypus import Table, TableStyle

    data = [[_p(c, st["small"]) for c in row] for row in rows]
    t = Table(data, colWidths=widths, repeatRows=1)
    t.setStyle(
        TableStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#b8c0cc")),
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eef1f5")),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ]
        )
    )
    return t


def _image(png: bytes, width: float) -> Any:
    from reportlab.lib.utils import ImageReader
    from reportlab.platypus import Image

    reader = ImageReader(io.BytesIO(png))
    w, h = reader.getSize()
    return Image(io.BytesIO(png), width=width, height=width * h / w)


def _doc(buf: io.BytesIO, title: str) -> Any:
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import mm
    from reportlab.platypus import SimpleDocTemplate

    return SimpleDocTemplate(
        buf,
        pagesize=A4,
        leftMargin=16 * mm,
        rightMargin=16 * mm,
        topMargin=15 * mm,
        bottomMargin=15 * mm,
        title=title,
        author="lagesbild",
    )


def render_weekly_pdf(
    pic: WeeklyPicture,
    images: dict[str, dict[str, bytes]] | None = None,
    actors: list[dict[str, Any]] | None = None,
) -> bytes:
    """PDF of the weekly lägesbild: per locality a map, a trend chart and tables.

    ``actors`` (from :func:`webmap.mail.coverage.coverage`) adds the table of who has
    reported, who had nothing to report and who is missing.
    """
    from reportlab.lib.units import mm
    from reportlab.platypus import PageBreak, Spacer

    images = images if images is not None else weekly_images(pic)
    st = _styles()
    tz = pic.tenant.timezone
    story: list[Any] = [
        _p(pic.title, st["title"]),
        _p(
            f"Rapportperiod {pic.period_start.tz_convert(tz):%Y-%m-%d %H:%M} – "
            f"{pic.period_end.tz_convert(tz):%Y-%m-%d %H:%M}.",
            st["body"],
        ),
        Spacer(1, 4 * mm),
        _p("Översikt", st["h2"]),
    ]
    summary = [["Tätort", "Mötets bedömning", "Analysens förslag", "Kommentar"]]
    for loc in shown_localities(pic):
        sug = loc.suggested.get("grade")
        summary.append(
            [
                loc.name,
                grade_text(loc),
                f"{sug} {GRADE_LABELS.get(int(sug), '')}" if sug else "–",
                (loc.decision or {}).get("comment") or "",
            ]
        )
    story.append(_table(summary, [34 * mm, 52 * mm, 34 * mm, 58 * mm], st))
    story.append(Spacer(1, 4 * mm))
    story.append(_image(overview_png(pic), 170 * mm))
    if actors:
        story.append(_p("Aktörernas rapportering", st["h2"]))
        rows = [["Aktör", "Ort", "Läge", "Rapporter"]]
        rows += [[a["org"], a["locality"] or "–", a["state_label"], a["reports"]] for a in actors]
        story.append(_table(rows, [60 * mm, 40 * mm, 48 * mm, 30 * mm], st))
    for loc in shown_localities(pic):
        story.append(PageBreak())
        story.append(_p(f"{loc.name}: {grade_text(loc)}", st["h2"]))
        if loc.decision:
            d = loc.decision
            story.append(
                _p(
                    f"Satt av mötet ({d['decided_by']}, {d['decided_at']:%Y-%m-%d %H:%M}): "
                    f"{d['grade']} {GRADE_LABELS.get(int(d['grade']), '')}. "
                    f"Kommentar: {d.get('comment') or '–'}",
                    st["body"],
                )
            )
        story.append(
            _p(
                f"Analysens förslag: {loc.suggested.get('grade', '–')} "
                f"{loc.suggested.get('label', '')}. {loc.suggested.get('explanation', '')}",
                st["body"],
            )
        )
        imgs = images.get(loc.code)
        if imgs:
            story.append(_image(imgs["map"], 95 * mm))
            story.append(_image(imgs["trend"], 95 * mm))
            if "breakdown" in imgs:
                story.append(_image(imgs["breakdown"], 150 * mm))
        story.append(_p("Hotspotlista", st["h3"]))
        rows = [["Zon", "Mönster", "Trend", "Bedömning", "Förklaring"]]
        rows += [
            [
                z["name"],
                z["pattern_sv"],
                z["trend"],
                f"{z['grade'] or ''} {z['label'] or ''}",
                z["explanation"],
            ]
            for z in loc.zones
        ] or [["–", "", "", "", "Inga hotspots"]]
        story.append(_table(rows, [32 * mm, 26 * mm, 18 * mm, 24 * mm, 78 * mm], st))
        story.append(_p("Åtgärder att följa upp", st["h3"]))
        arows: list[list[Any]] = [["Åtgärd", "Typ", "Status", "Ansvarig", "Senast uppföljd"]]
        arows += [
            [
                a["title"],
                a.get("kind_sv"),
                a.get("status_sv"),
                a.get("responsible") or "",
                str(a.get("last_followup_date") or "aldrig"),
            ]
            for a in loc.actions_due
        ] or [["–", "", "", "", ""]]
        story.append(_table(arows, [50 * mm, 34 * mm, 24 * mm, 36 * mm, 34 * mm], st))
        story.append(_p("Nya rapporter", st["h3"]))
        src = ", ".join(f"{k}: {v}" for k, v in loc.by_source.items()) or "inga"
        cat = ", ".join(f"{k}: {v}" for k, v in loc.by_category.items()) or "inga"
        story.append(_p(f"Per källa: {src}. Per kategori: {cat}.", st["body"]))
        if loc.latest:
            lrows = [["Tid", "Kategori", "Källa", "Text"]]
            lrows += [[r["when"], r["category"], r["source"], r["text"] or ""] for r in loc.latest]
            story.append(_table(lrows, [28 * mm, 28 * mm, 24 * mm, 98 * mm], st))
        story.append(_p("Jämförelse med tidigare veckor", st["h3"]))
        prow = [
            ["Vecka"] + [p["week"] for p in loc.previous],
            ["Satt bedömning"] + [str(p["grade"] or "–") for p in loc.previous],
            ["Rapporter"]
            + [str(p["count"] if p["count"] is not None else "–") for p in loc.previous],
        ]
        story.append(_table(prow, [30 * mm] + [24.6 * mm] * len(loc.previous), st))
    buf = io.BytesIO()
    _doc(buf, pic.title).build(story)
    return buf.getvalue()


def render_yearly_pdf(pic: YearlyPicture) -> bytes:
    """PDF of the yearly lägesbild (kartläggning, omfattning, analys) and åtgärdsplan."""
    from reportlab.lib.units import mm
    from reportlab.platypus import PageBreak, Spacer

    st = _styles()
    title = f"Lägesbild och åtgärdsplan {pic.year}: {pic.tenant.name}"
    story: list[Any] = [
        _p(title, st["title"]),
        _p(
            "Underlag enligt lagen (2023:196) om kommuners ansvar för brottsförebyggande arbete: "
            "lägesbild (kartläggning, omfattning, analys) och åtgärdsplan.",
            st["body"],
        ),
        Spacer(1, 4 * mm),
        _p("1. Kartläggning", st["h2"]),
        _p(
            f"Underlaget är {pic.total} godkända rapporter från EST-aktörer, medborgare, "
            "trygghetsvärdar och polisen under året.",
            st["body"],
        ),
    ]
    rows = [["Källa", "Antal"]] + [[r.source, str(r.count)] for r in pic.by_source.itertuples()]
    story.append(_table(rows, [60 * mm, 30 * mm], st))
    story.append(_image(month_png(pic.by_month, f"Rapporter per månad {pic.year}"), 150 * mm))
    story.append(_p("2. Omfattning", st["h2"]))
    rows = [["Tätort", "Rapporter", "Allvarliga", "Per 1 000 inv."]]
    rows += [
        [r.name, str(r.count), str(int(r.serious)), "–" if r.per_1000 is None else str(r.per_1000)]
        for r in cast(Any, pic.by_locality).itertuples()
    ]
    story.append(_table(rows, [60 * mm, 30 * mm, 30 * mm, 30 * mm], st))
    rows = [["Kategori", "Antal", "Andel %"]]
    rows += [[r.category, str(r.count), str(r.share)] for r in pic.by_category.itertuples()]
    story.append(_table(rows, [60 * mm, 30 * mm, 30 * mm], st))
    story.append(PageBreak())
    story.append(_p("3. Analys", st["h2"]))
    story.append(
        _p(
            "Hotspots enligt analysen vid årets slut (Getis-Ord Gi* per vecka och "
            "Mann-Kendall-trend; mönster enligt Emerging Hot Spot Analysis).",
            st["body"],
        )
    )
    rows = [["Zon", "Tätort", "Mönster", "Bedömning", "Förklaring"]]
    rows += [
        [
            z["name"],
            z.get("locality_name", ""),
            z["pattern_sv"],
            f"{z['grade'] or ''} {z['label'] or ''}",
            z["explanation"],
        ]
        for z in pic.zones
    ] or [["–", "", "", "", "Inga hotspots"]]
    story.append(_table(rows, [30 * mm, 25 * mm, 25 * mm, 22 * mm, 76 * mm], st))
    if len(pic.grade_weeks):
        story.append(_p("Veckomötenas bedömningar (antal veckor per nivå)", st["h3"]))
        rows = [["Tätort"] + [f"{g} {GRADE_LABELS[g]}" for g in range(1, 6)]]
        rows += [
            [r["name"]] + [str(r[str(g)]) for g in range(1, 6)]
            for _, r in pic.grade_weeks.iterrows()
        ]
        story.append(_table(rows, [40 * mm] + [27 * mm] * 5, st))
    story.append(PageBreak())
    story.append(_p("4. Åtgärdsplan", st["h2"]))
    rows = [["Åtgärd", "Typ", "Status", "Ansvarig", "Period", "Senaste uppföljning"]]
    for a in pic.actions:
        last = a.get("last_followup") or {}
        rows.append(
            [
                a["title"],
                a.get("kind_sv"),
                a.get("status_sv"),
                a.get("responsible") or "",
                f"{a.get('planned_start') or '?'} – {a.get('planned_end') or '?'}",
                f"{last.get('meeting_date', '')} {last.get('note', '')}".strip() or "–",
            ]
        )
    story.append(_table(rows, [40 * mm, 22 * mm, 18 * mm, 28 * mm, 30 * mm, 40 * mm], st))
    buf = io.BytesIO()
    _doc(buf, title).build(story)
    return buf.getvalue()
