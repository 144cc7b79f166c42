"""What a kommun's ready payloads depend on: one query over the tables that change them."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, bindparam, func, select

from geo.store.tables import action_followups, actions, data_version, grade_decisions, publications


def _token_parts() -> dict[str, Any]:
    k: Any = bindparam("kommun")
    dv, a, f, d, p = data_version, actions, action_followups, grade_decisions, publications
    return {
        "version": select(dv.c.version).where(dv.c.kommun == k),
        "changed": select(dv.c.updated_at).where(dv.c.kommun == k),
        "actions": select(func.count()).where(a.c.kommun == k),
        "actions_changed": select(func.max(a.c.updated_at)).where(a.c.kommun == k),
        "followups": select(func.max(f.c.id)).where(
            f.c.action_id.in_(select(a.c.id).where(a.c.kommun == k))
        ),
        "decisions": select(func.max(d.c.id)).where(d.c.kommun == k),
        "publications": select(func.max(p.c.id)).where(p.c.kommun == k),
    }


#: Compiled statement per database dialect.
_TOKEN_SQL: dict[str, Any] = {}


def state_token(conn: Connection, kommun: str) -> tuple[Any, ...]:
    """Everything a kommun's payloads depend on, in one query.

    ``(data version, its time, actions count and last change, last follow-up, last
    grade decision, last publication)``. The statement is compiled once per database
    dialect (it runs on every request).
    """
    compiled = _TOKEN_SQL.get(conn.dialect.name)
    if compiled is None:
        stmt = select(*(q.scalar_subquery() for q in _token_parts().values()))
        compiled = _TOKEN_SQL.setdefault(conn.dialect.name, stmt.compile(dialect=conn.dialect))
    values = compiled.construct_params({"kommun": kommun})
    params: Any = tuple(values[n] for n in compiled.positiontup) if compiled.positional else values
    row = tuple(conn.exec_driver_sql(str(compiled), params).one())
    return tuple(str(v) if v is not None else None for v in row)
