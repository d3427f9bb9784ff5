"""Database engine, sessions and schema migration (SQLite by default, PostgreSQL to grow)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Column, event, text
from sqlalchemy.engine import Connection, Dialect, Engine
from sqlmodel import Session, create_engine

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"
# An arbitrary constant: the PostgreSQL advisory lock that serialises migrations.
MIGRATION_LOCK_ID = 7_202_611_25


# How long an SQLite writer waits for another's lock. Twilio gives up on a webhook after
# 15 s, so a step must fail over to the fallback TwiML well before that.
SQLITE_BUSY_SECONDS = 5


def normalise_url(url: str) -> str:
    """Use the psycopg 3 driver for plain postgresql:// URLs."""
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def make_engine(url: str, **kwargs: object) -> Engine:
    """An engine with SQLite set up for concurrent readers (WAL) and foreign keys."""
    url = normalise_url(url)
    # Statement parameters carry personal data (callers' and members' numbers): keep them out
    # of exception texts and SQL echo (docs/identity-and-privacy.md#privacy-rules).
    kwargs.setdefault("hide_parameters", True)
    if url.startswith("sqlite"):
        engine = create_engine(
            url, connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_SECONDS}, **kwargs
        )

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):  # type: ignore[no-untyped-def]
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_SECONDS * 1000}")
            cur.close()

        return engine
    kwargs.setdefault("pool_pre_ping", True)
    return create_engine(url, **kwargs)


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """A session that commits on success and rolls back on error."""
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


def _alembic_config(engine: Engine):  # type: ignore[no-untyped-def]
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.attributes["engine"] = engine
    return cfg


def migrate(engine: Engine) -> None:
    """Bring the schema to the latest revision; safe when several processes start at once."""
    from alembic import command

    cfg = _alembic_config(engine)
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": MIGRATION_LOCK_ID})
            conn.commit()
            try:
                cfg.attributes["connection"] = conn
                command.upgrade(cfg, "heads")
                conn.commit()
            finally:
                conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": MIGRATION_LOCK_ID})
                conn.commit()
        return
    # SQLite: one writer at a time; a second process that loses the race retries.
    for attempt in range(20):
        try:
            with engine.begin() as conn:
                cfg.attributes["connection"] = conn
                command.upgrade(cfg, "heads")
            return
        except Exception as exc:  # pragma: no cover - only under concurrent start
            if "locked" not in str(exc).lower() and "already exists" not in str(exc).lower():
                raise
            time.sleep(0.2 * (attempt + 1))
    raise RuntimeError("could not migrate the database: it stayed locked")


class DriverSQL:
    """A hand-written statement run on the DBAPI connection under a SQLAlchemy `Connection`.

    Only for the few statements every webhook runs: through SQLAlchemy Core each costs 13-25 us
    of Python on top of SQLite's own 5-30 us, straight on the driver 3-6 us, and a menu step
    runs eight (README, Performance). It uses the connection's own DBAPI connection, so it
    runs inside the same transaction as the Core statements around it. Write the SQL with `?`
    placeholders (psycopg gets `%s`) and `{true}`/`{false}` for boolean literals: SQLite uses
    its partial index of live offers only for the literal `live = 1`, as Core renders it.
    Values of typed columns (datetimes, JSON, booleans) go through SQLAlchemy's own type
    processors (`bind_value`, `result_processors`), so what is stored is exactly what Core
    stores.
    """

    def __init__(self, sql: str) -> None:
        self.sql = {"sqlite": sql.format(true="1", false="0"),
                    "postgresql": sql.replace("?", "%s").format(true="true", false="false")}

    def run(self, conn: Connection, params: Sequence[Any] = ()) -> Any:
        """Execute with positional parameters; returns the DBAPI cursor."""
        raw: Any = conn.connection.driver_connection
        return raw.execute(self.sql[conn.dialect.name], params)


def _bind_processor(col: Column[Any], dialect: Dialect) -> Callable[[Any], Any] | None:
    return col.type.dialect_impl(dialect).bind_processor(dialect)  # type: ignore[no-any-return]


# Keyed by the dialect's class: the processors depend on the dialect, never on one engine.
_BIND: dict[tuple[type, Column[Any]], Callable[[Any], Any] | None] = {}
_RESULT: dict[tuple[type, tuple[Column[Any], ...], tuple[Any, ...]], list[Any]] = {}


def bind_value(conn: Connection, col: Column[Any], value: Any) -> Any:
    """`value` as SQLAlchemy would send it to the driver for column `col`."""
    key = (type(conn.dialect), col)
    try:
        proc = _BIND[key]
    except KeyError:
        proc = _BIND[key] = _bind_processor(col, conn.dialect)
    return value if proc is None or value is None else proc(value)


def result_processors(conn: Connection, cur: Any, columns: tuple[Column[Any], ...],
                      offset: int = 0) -> list[Any]:
    """Core's result processor (or None) for each of `columns`, read from position `offset`."""
    codes = tuple(d[1] for d in cur.description[offset:offset + len(columns)])
    key = (type(conn.dialect), columns, codes)
    procs = _RESULT.get(key)
    if procs is None:
        d = conn.dialect
        procs = _RESULT[key] = [c.type.dialect_impl(d).result_processor(d, code)
                                for c, code in zip(columns, codes, strict=True)]
    return procs
