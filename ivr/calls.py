"""Reading and writing a call's row, and answering each (call, step) once (CONTRACT §5)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError

from ivr.models import Call, CallStep

CALL = Call.__table__  # type: ignore[attr-defined]
STEP = CallStep.__table__  # type: ignore[attr-defined]

# Every webhook runs these: built once, with bind parameters, so SQLAlchemy neither rebuilds
# the statement nor recomputes its cache key per request (about 3x cheaper per execute;
# scripts/bench measures the webhooks).
_LOAD_CALL = select(CALL).where(CALL.c.call_sid == bindparam("b_sid"))
_SAVE_CALL = update(CALL).where(CALL.c.call_sid == bindparam("b_sid"))
_ANSWERED = select(STEP.c.twiml, STEP.c.stage).where(
    STEP.c.call_sid == bindparam("b_sid"), STEP.c.step == bindparam("b_step"))
_STORE_ANSWER = STEP.insert()


class CallRow(dict):
    """A call's row as a dict; `changes` collects what to write back."""

    def __init__(self, data: dict[str, Any]) -> None:
        super().__init__(data)
        self.changes: dict[str, Any] = {}

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


def load_call(conn: Connection, call_sid: str) -> CallRow | None:
    """The call's row, or None."""
    r = conn.execute(_LOAD_CALL, {"b_sid": call_sid}).first()
    return CallRow(dict(r._mapping)) if r else None


def save_call(conn: Connection, call: CallRow) -> None:
    """Write the changed fields."""
    if call.changes:
        # The SET clause is the changed columns, given as parameters of the prebuilt UPDATE.
        conn.execute(_SAVE_CALL, {**call.changes, "b_sid": call["call_sid"]})
        call.changes = {}


StepFn = Callable[[Connection, datetime], tuple[str, str | None]]


def answer_once(engine: Engine, *, call_sid: str, step: str, now: datetime,
                fn: StepFn) -> tuple[str, str | None]:
    """Run a step at most once per (call, step): a retry gets the stored TwiML back.

    The look-up, the step's reads, its writes and the stored answer are one transaction.
    """
    key = {"b_sid": call_sid, "b_step": step[:255]}
    try:
        with engine.begin() as conn:
            got = conn.execute(_ANSWERED, key).first()
            if got is not None:
                return got.twiml, got.stage
            twiml, stage = fn(conn, now)
            conn.execute(_STORE_ANSWER, {"call_sid": call_sid, "step": key["b_step"],
                                         "twiml": twiml, "stage": stage, "created_at": now})
        return twiml, stage
    except IntegrityError:
        # A concurrent retry of the same step won the race: give its answer.
        with engine.connect() as conn:
            got = conn.execute(_ANSWERED, key).first()
        if got is None:
            raise
        return got.twiml, got.stage
