"""Edits of the live configuration, each as one org-file change in one transaction.

An edit locks the configuration, reads it as an OrgFile (switchboard.orgexport), checks the
caller's version of the object (ETag), changes the org-file data, validates the whole file with
the org file's own code, applies it with `org apply`'s machinery, audits before and after, and
commits: all or nothing. The IVR's snapshot notices the bumped org version for the next call.
"""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlalchemy.engine import Connection, Engine

from console.audit import record
from routing.snapshot import SnapshotCache
from switchboard.db import session_scope
from switchboard.models import Meta
from switchboard.orgapply import ORG_VERSION_KEY, apply_org
from switchboard.orgexport import NotConfigured, live_org, org_data, validate_data
from switchboard.orgfile import OrgFileError

Data = dict[str, Any]
Getter = Callable[[Data], Any]


class NotFound(Exception):
    """The object does not exist."""


class Stale(Exception):
    """If-Match names a version that is no longer current."""

    def __init__(self, current: Any, etag: str) -> None:
        super().__init__("stale")
        self.current = current
        self.etag = etag


class Invalid(Exception):
    """The change would make an org file that the org file's validation refuses."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        super().__init__("\n".join(f"{p}: {m}" for p, m in problems))
        self.problems = problems


def etag_of(obj: Any) -> str:
    """A strong ETag of an object's org-file data."""
    blob = json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return '"' + hashlib.sha256(blob.encode()).hexdigest()[:20] + '"'


def matches(if_match: str, etag: str) -> bool:
    """If-Match against the current ETag (a list, `*`, or a weak form also match)."""
    wanted = [t.strip().removeprefix("W/") for t in if_match.split(",")]
    return "*" in wanted or etag in wanted or etag.strip('"') in wanted


def lock(conn: Connection) -> None:
    """Take the configuration's write lock for this transaction, before reading it.

    An UPDATE of the org version's row: PostgreSQL locks the row until commit, and SQLite takes
    its write lock, before this transaction has read anything, so the next editor waits and
    then reads what this one committed (no lost update between two ETag checks).
    """
    conn.execute(update(Meta).where(Meta.key == ORG_VERSION_KEY)  # type: ignore[arg-type]
                 .values(value=Meta.value))


@dataclass
class Edited:
    """The object after the change, its ETag, and whether anything changed."""

    after: Any
    etag: str
    changed: bool


class OrgEditor:
    """Reads and edits the live configuration on behalf of the admin API and pages."""

    def __init__(self, engine: Engine, cache: SnapshotCache, clock: Callable[[], datetime],
                 default_timezone: str) -> None:
        self.engine = engine
        self.cache = cache
        self.clock = clock
        self.tz = default_timezone

    def data(self) -> Data:
        """The whole live configuration as org-file data."""
        with self.engine.connect() as conn:
            return org_data(live_org(conn, default_timezone=self.tz))

    def get(self, getter: Getter) -> tuple[Any, str]:
        """One object and its ETag (NotFound, NotConfigured)."""
        obj = getter(self.data())
        return obj, etag_of(obj)

    def edit(self, *, who: str, kind: str, object_id: str, action: str, getter: Getter,
             change: Callable[[Data], None], if_match: str | None,
             after_getter: Getter | None = None) -> Edited:
        """Apply `change` to the org data if the object is still at `if_match` (None: any)."""
        now = self.clock()
        with session_scope(self.engine) as session:
            conn = session.connection()
            lock(conn)
            try:
                org = live_org(conn, default_timezone=self.tz)
            except OrgFileError as exc:  # the stored configuration itself no longer validates
                raise Invalid(getattr(exc, "problems", [("(file)", exc.message)])) from None
            data = org_data(org)
            before = _maybe(getter, data)
            if if_match is not None and not matches(if_match, etag_of(before)):
                if before is None:
                    raise NotFound(object_id)
                raise Stale(before, etag_of(before))
            new = copy.deepcopy(data)
            change(new)
            try:
                new_org = validate_data(new, default_timezone=self.tz)
            except OrgFileError as exc:
                raise Invalid(exc.problems) from None  # type: ignore[attr-defined]
            new_data = org_data(new_org)
            after = _maybe(after_getter or getter, new_data)
            if new_data == data:
                session.rollback()
                return Edited(after, etag_of(after), False)
            apply_org(self.engine, new_org, now=now, session=session)
            record(conn, who=who, kind=kind, object_id=object_id, action=action,
                   before=before, after=after, at=now)
        self.cache.invalidate()  # this process: the next call sees it at once
        return Edited(after, etag_of(after), True)


def _maybe(getter: Getter, data: Data) -> Any:
    try:
        return getter(data)
    except NotFound:
        return None


# Getters: one object of the org data, or NotFound.

def agent_of(agent_id: str) -> Getter:
    """The agent entry with this id."""
    def get(data: Data) -> Any:
        for a in data["agents"]:
            if a["id"] == agent_id:
                return a
        raise NotFound(agent_id)
    return get


def loop_of(loop_id: str) -> Getter:
    """The loop entry with this id."""
    def get(data: Data) -> Any:
        for lp in data["loops"]:
            if lp["id"] == loop_id:
                return lp
        raise NotFound(loop_id)
    return get


def department_of(dept_id: str) -> Getter:
    """The department entry with this id."""
    def get(data: Data) -> Any:
        for d in data.get("departments", []):
            if d["id"] == dept_id:
                return d
        raise NotFound(dept_id)
    return get


def section(*keys: str, parent: str | None = None) -> Getter:
    """A few keys together (absent ones as null), e.g. the menu with its default; top-level
    keys, or keys of the `parent` mapping (the organisation's hours)."""
    def get(data: Data) -> Any:
        where = data if parent is None else data[parent]
        return {k: where.get(k) for k in keys}
    return get


MENU_KEYS = ("menu", "menu_default", "english", "prompts")
NUMBERS_KEYS = ("numbers",)
ORGANISATION_KEYS = ("organisation",)

__all__ = ["Edited", "Invalid", "NotConfigured", "NotFound", "OrgEditor", "Stale", "etag_of"]
