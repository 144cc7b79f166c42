"""The bulk path of a file import: duplicate look-ups in memory, constant columns."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import Engine, func, select

from geo._store_batch import ImportedFingerprints
from geo.boundaries import load_boundaries
from geo.ingest import ingest_file, ingest_frame
from geo.store import report
from geo.store.bulk import _sql_literal, insert_columns

NOW = pd.Timestamp("2026-11-20 12:00", tz="UTC")
TOWN = (59.7560, 18.7138)  # inside the locality Norrtälje


def _inside(kommun: str) -> tuple[float, float]:
    point = load_boundaries("locality", kommun).geometry.iloc[0].representative_point()
    return round(point.y, 6), round(point.x, 6)


def _write(path: Path, rows: list[list[object]], header: list[str]) -> Path:
    pd.DataFrame(rows, columns=header).to_csv(path, index=False)
    return path


def _by_kommun(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        rows = conn.execute(select(report.c.kommun, func.count()).group_by(report.c.kommun)).all()
    return {str(k): int(n) for k, n in rows}


def test_duplicates_across_batches_in_a_fresh_and_in_a_filled_kommun(
    engine: Engine, tmp_path: Path
) -> None:
    # norrtalje already holds report "N-1": its rows are looked up in the database;
    # kungsor holds nothing: the import finds its own earlier rows in memory
    with engine.begin() as conn:
        ingest_frame(
            conn,
            pd.DataFrame(
                [
                    {
                        "external_id": "N-1",
                        "occurred_at": "2024-05-01 10:00",
                        "category": "klotter",
                        "lat": TOWN[0],
                        "lon": TOWN[1],
                    }
                ]  # fmt: skip
            ),
            kommun="norrtalje",
            source="actor",
            now=NOW,
        )
    k = _inside("kungsor")
    same = ["kungsor", "", "2024-05-02 22:10", "klotter", *k]
    rows: list[list[object]] = [
        ["norrtalje", "N-1", "2024-06-01 10:00", "brand", *TOWN],  # stored before
        ["kungsor", "K-1", "2024-05-01 10:00", "klotter", *k],
        same,
        ["norrtalje", "N-2", "2024-05-03 10:00", "klotter", *TOWN],
        ["kungsor", "K-1", "2024-07-01 10:00", "brand", *k],  # same id, other batch
        same,  # an identical row: a second report
        ["norrtalje", "N-2", "2024-05-04 10:00", "brand", *TOWN],
        ["kungsor", " K-1 ", "2024-05-01 10:00", "klotter", *k],  # the id, padded
        ["kungsor", "K-2", "2024-05-05 10:00", "klotter", *k],
    ]
    header = ["kommun", "external_id", "occurred_at", "category", "lat", "lon"]
    path = _write(tmp_path / "mix.csv", rows, header)
    first = ingest_file(engine, path, source="actor", batch_size=2, chunk_rows=4, now=NOW)
    assert (first.stored, first.duplicates, first.quarantined) == (5, 4, 0)
    assert _by_kommun(engine) == {"norrtalje": 2, "kungsor": 4}
    # both kommuner now hold reports: the import again looks everything up in the database
    again = _write(tmp_path / "again.csv", [*rows, same], header)
    second = ingest_file(engine, again, source="actor", batch_size=3, now=NOW)
    assert (second.stored, second.duplicates) == (1, 9)
    assert _by_kommun(engine) == {"norrtalje": 2, "kungsor": 5}


@pytest.mark.dialects("sqlite")
def test_another_writer_turns_the_memory_off(engine: Engine) -> None:
    memo = ImportedFingerprints()
    fps = pd.Series(["00" * 31 + "ff", "ab" * 32, "ab" * 8 + "cd" * 24, "ac" * 32])
    with engine.begin() as conn:
        assert memo.check(conn) and memo.covers(conn, "norrtalje")
        assert memo.maybe(fps).tolist() == [False] * 4
        memo.add(conn, fps[:2])
    # the first 8 bytes decide: the third may be stored (the database is asked)
    assert memo.maybe(fps).tolist() == [True, True, True, False]
    with engine.begin() as conn:
        assert memo.check(conn)  # nothing written since
        ingest_frame(
            conn,
            pd.DataFrame(
                [
                    {
                        "occurred_at": "2024-05-01",
                        "category": "klotter",
                        "lat": TOWN[0],
                        "lon": TOWN[1],
                    }
                ]
            ),
            kommun="norrtalje",
            source="actor",
            now=NOW,
        )
    with engine.begin() as conn:
        assert not memo.check(conn)  # a report this import did not store
        assert not memo.check(conn)  # and for the rest of the import
        assert not ImportedFingerprints().covers(conn, "norrtalje")


def test_constant_columns_are_written_into_the_statement(engine: Engine) -> None:
    n = 3
    when = dt.datetime(2024, 5, 1, 10, 0)
    columns: dict[str, list[object]] = {
        "kommun": ["norrtalje"] * n,
        "source": ["actor"] * n,
        "external_id": [None] * n,
        "fingerprint": [f"fp-{i}" for i in range(n)],
        "occurred_at": [when] * n,
        "category": ["klotter"] * n,
        "severity": [2.5] * n,
        "description": ['O\'Brien sa "hej"; -- åäö'] * n,
        "lat": [59.1, 59.2, 59.3],
        "cell": [2**62 + 7] * n,
        "precision": ["point"] * n,
        "status": ["approved"] * n,
        "import_id": [None] * n,
        "created_at": [when] * n,
    }
    with engine.begin() as conn:
        insert_columns(conn, report, columns)
        rows = conn.execute(
            select(
                report.c.fingerprint,
                report.c.external_id,
                report.c.occurred_at,
                report.c.severity,
                report.c.description,
                report.c.lat,
                report.c.cell,
            ).order_by(report.c.fingerprint)  # fmt: skip
        ).all()
    assert [tuple(r) for r in rows] == [
        (f"fp-{i}", None, when, 2.5, 'O\'Brien sa "hej"; -- åäö', lat, 2**62 + 7)
        for i, lat in enumerate([59.1, 59.2, 59.3])
    ]


def test_sql_literals() -> None:
    assert _sql_literal([None, None]) == "NULL"
    assert _sql_literal(["a'b", "a'b"]) == "'a''b'"
    assert _sql_literal([7, 7]) == "7" and _sql_literal([0.1, 0.1]) == "0.1"
    assert _sql_literal([1, 2]) == "" and _sql_literal(["a", None]) == ""
    assert _sql_literal([float("nan")] * 2) == "" and _sql_literal([True, True]) == ""
    assert _sql_literal(["a\x00b", "a\x00b"]) == ""
    assert _sql_literal([b"x", b"x"]) == ""


def test_numbers_parse_and_print_as_the_general_path_does() -> None:
    from geo._fingerprint import float_part
    from geo._staging import STR, _parse_floats, to_float

    texts = ["59.282435", "-17.929011", "5.", "007.5", "-0", "123456789012345", "", None,
             " 59.5 ", "59,76", "\u221217.5", "1 234,5", "1e5", "-.5", "+3", "abc",
             "1234567890123456", "59.12345678901234567", "inf"]  # fmt: skip
    for dtype in (object, STR):
        values = pd.Series(texts, dtype=dtype, index=range(3, 3 + len(texts)))
        fast, general = to_float(values), _parse_floats(values)
        assert fast.index.equals(values.index)
        assert fast.to_numpy().tobytes() == general.to_numpy().tobytes()
    numbers = pd.Series([59.2824351, None, -0.0000001, 59.0, 1e-5, 1e12 + 0.5, 0.1, float("inf")])
    assert float_part(numbers).tolist() == [
        "59.282435", "", "0.0", "59.0", "1e-05", "1000000000000.5", "0.1", "inf"
    ]  # fmt: skip


@pytest.mark.dialects("sqlite")
def test_an_index_left_dropped_by_a_killed_import_comes_back(
    engine: Engine, tmp_path: Path
) -> None:
    from sqlalchemy import inspect

    from geo.store.bulk import DEFERRED_INDEXES, FRESH_DEFERRED_INDEXES

    header = ["external_id", "occurred_at", "category", "lat", "lon"]
    first = _write(tmp_path / "a.csv", [["A-1", "2024-05-01", "klotter", *TOWN]], header)
    ingest_file(engine, first, kommun="norrtalje", source="actor", now=NOW, defer_indexes=True)
    every = set(DEFERRED_INDEXES + FRESH_DEFERRED_INDEXES)
    assert every <= {i["name"] for i in inspect(engine).get_indexes("report")}
    with engine.begin() as conn:  # what an import killed in the middle leaves behind
        for name in every:
            conn.exec_driver_sql(f"DROP INDEX {name}")
    second = _write(tmp_path / "b.csv", [["A-1", "2024-05-02", "brand", *TOWN]], header)
    res = ingest_file(engine, second, kommun="norrtalje", source="actor", now=NOW)
    assert (res.stored, res.duplicates) == (0, 1)
    assert every <= {i["name"] for i in inspect(engine).get_indexes("report")}
