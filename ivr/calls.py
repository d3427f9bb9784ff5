"""Reading and writing a call's row, and answering each (call, step) once (docs/routing.md).

Every webhook runs these statements, so they go straight to the driver (`DriverSQL`, with
SQLAlchemy's own type processors for the values): through Core they cost 13-25 us each in
Python alone (README, Performance).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import Column
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError

from ivr.models import Call, CallStep
from ivr.txn import StepTransactions
from switchboard.db import DriverSQL, bind_value, result_processors

CALL = Call.__table__  # type: ignore[attr-defined]
STEP = CallStep.__table__  # type: ignore[attr-defined]

_CALL_COLUMNS: tuple[Column[Any], ...] = tuple(CALL.c)
_CALL_NAMES = tuple(c.name for c in _CALL_COLUMNS)
_SELECT_CALL = ", ".join(f"c.{n}" for n in _CALL_NAMES)
_LOAD_CALL = DriverSQL(f"SELECT {_SELECT_CALL} FROM call c WHERE c.call_sid = ?")
# A step that starts from the call's row reads the stored answer (if this is a retry) and the
# row in one round trip.
_LOAD_CALL_AND_ANSWER = DriverSQL(
    f"SELECT s.twiml, s.stage, {_SELECT_CALL} FROM call c LEFT JOIN call_step s"
    " ON s.call_sid = c.call_sid AND s.step = ? WHERE c.call_sid = ?")
_ANSWERED = DriverSQL("SELECT twiml, stage FROM call_step WHERE call_sid = ? AND step = ?")
_STORE_ANSWER = DriverSQL(
    "INSERT INTO call_step (call_sid, step, twiml, stage, created_at) VALUES (?, ?, ?, ?, ?)")
_CREATED_AT = STEP.c.created_at


class CallRow(dict):
    """A call's row as a dict; `changes` collects what to write back.

    A column is decoded from the driver's value (SQLAlchemy's result processor: dates and
    JSON are parsed) only when a step first reads it: a step reads a few of the row's
    nineteen columns, and decoding them all cost 17 us per step (README, Performance).
    """

    def __init__(self, undecoded: dict[str, tuple[Any, Any]]) -> None:
        super().__init__()
        self._undecoded = undecoded  # column -> (result processor or None, driver value)
        self.changes: dict[str, Any] = {}

    def __missing__(self, key: str) -> Any:
        proc, value = self._undecoded.pop(key)  # KeyError for a column the row lacks
        if proc is not None and value is not None:
            value = proc(value)
        self[key] = value
        return value

    def __bool__(self) -> bool:
        # A row is a row, even before any column is decoded (an empty dict would be false:
        # `lang if call else "nb"` then gave an English caller Norwegian thanks).
        return True

    def get(self, key: str, default: Any = None) -> Any:  # type: ignore[override]
        """As dict.get, decoding the column if need be."""
        try:
            return self[key]
        except KeyError:
            return default

    def set(self, **kw: Any) -> None:
        """Change fields; written at the end of the step."""
        self.update(kw)
        self.changes.update(kw)

    @property
    def route(self) -> dict[str, Any]:
        """The mutable routing progress (JSON)."""
        r = self.get("route") or {}
        self["route"] = r
        return r

    def touch_route(self) -> None:
        """Mark the route JSON as changed."""
        self.changes["route"] = dict(self.route)


def insert_call(conn: Connection, values: dict[str, Any]) -> None:
    """Create the call's row unless it exists (a retried first webhook)."""
    ins = postgresql.insert(CALL) if conn.dialect.name == "postgresql" else sqlite.insert(CALL)
    conn.execute(ins.values(**values).on_conflict_do_nothing())


def _call_row(conn: Connection, cur: Any, row: Any, offset: int = 0) -> CallRow:
    procs = result_processors(conn, cur, _CALL_COLUMNS, offset)
    return CallRow(dict(zip(_CALL_NAMES, zip(procs, row[offset:offset + len(procs)],
                                             strict=True), strict=True)))


def load_call(conn: Connection, call_sid: str) -> CallRow | None:
    """The call's row, or None."""
    cur = _LOAD_CALL.run(conn, (call_sid,))
    row = cur.fetchone()
    return _call_row(conn, cur, row) if row is not None else None


@lru_cache(maxsize=256)
def _update_call(names: tuple[str, ...]) -> DriverSQL:
    # The names are CALL's own column names (save_call looks each up in CALL.c first).
    return DriverSQL(f"UPDATE call SET {', '.join(f'{n} = ?' for n in names)}"
                     " WHERE call_sid = ?")


def save_call(conn: Connection, call: CallRow) -> None:
    """Write the changed fields."""
    if call.changes:
        names = tuple(call.changes)
        values = [bind_value(conn, CALL.c[n], v) for n, v in call.changes.items()]
        _update_call(names).run(conn, (*values, call["call_sid"]))
        call.changes = {}


Answer = tuple[str, str | None]
StepFn = Callable[[Connection, datetime], Answer]
CallStepFn = Callable[[Connection, datetime, CallRow | None], Answer]


def _integrity_errors(engine: Engine) -> tuple[type[BaseException], ...]:
    # DriverSQL raises the driver's own IntegrityError, Core wraps it in SQLAlchemy's.
    return (IntegrityError, engine.dialect.loaded_dbapi.IntegrityError)


def _store(conn: Connection, call_sid: str, step: str, answer: Answer, now: datetime) -> None:
    _STORE_ANSWER.run(conn, (call_sid, step, answer[0], answer[1],
                             bind_value(conn, _CREATED_AT, now)))


def _stored(tx: StepTransactions, call_sid: str, step: str) -> Answer | None:
    """The answer a concurrent run of the same step stored (it won the race), if any."""
    with tx.begin() as conn:
        got = _ANSWERED.run(conn, (call_sid, step)).fetchone()
    return (got[0], got[1]) if got is not None else None


def answer_once(tx: StepTransactions, *, call_sid: str, step: str, now: datetime,
                fn: StepFn) -> Answer:
    """Run a step at most once per (call, step): a retry gets the stored TwiML back.

    The look-up, the step's reads, its writes and the stored answer are one transaction
    (`ivr.txn`: on SQLite it commits with the other steps of the same turn of the loop).
    """
    step = step[:255]
    try:
        with tx.begin() as conn:
            got = _ANSWERED.run(conn, (call_sid, step)).fetchone()
            if got is not None:
                return got[0], got[1]
            answer = fn(conn, now)
            _store(conn, call_sid, step, answer, now)
        return answer
    except _integrity_errors(tx.engine):
        # A concurrent retry of the same step won the race: give its answer.
        stored = _stored(tx, call_sid, step)
        if stored is None:
            raise
        return stored


def answer_call_once(tx: StepTransactions, *, call_sid: str, step: str, now: datetime,
                     fn: CallStepFn) -> Answer:
    """answer_once for a step that starts from the call's row (None when there is none)."""
    step = step[:255]
    try:
        with tx.begin() as conn:
            cur = _LOAD_CALL_AND_ANSWER.run(conn, (step, call_sid))
            row = cur.fetchone()
            call = None
            if row is None:  # no such call; an answer can still exist (stored for a stray SID)
                got = _ANSWERED.run(conn, (call_sid, step)).fetchone()
                if got is not None:
                    return got[0], got[1]
            elif row[0] is not None:  # twiml is NOT NULL: this step was answered already
                return row[0], row[1]
            else:
                call = _call_row(conn, cur, row, 2)
            answer = fn(conn, now, call)
            _store(conn, call_sid, step, answer, now)
        return answer
    except _integrity_errors(tx.engine):
        stored = _stored(tx, call_sid, step)
        if stored is None:
            raise
        return stored
