"""Call statistics: pure functions over the stored call records (docs/statistics.md).

A call's way through the loops is `call.loop_path`: each loop it entered, with when, and
"voicemail" when an overflow sent it there. Each entry is a *visit*; a visit ends when the
call moves on (the next entry's time), is answered (the answering offer's `answered_at`), or
the caller hangs up (`call.ended_at`). So every figure below is exact for any past day:

- offered: visits to the loop; answered: visits that ended with an agent confirming;
- abandoned: the caller hung up while waiting or ringing in the loop (`abandoned_short`: within
  5 seconds, which makes no callback ticket); overflowed: visits that moved on to another loop
  or to voicemail; voicemail: callers who then left a message (the callback's recording);
- wait: time in the loop until answered, abandoned or moved on; service level: the share of
  answered visits answered within the loop's `service_level_seconds`;
- talk: from the answering offer's `answered_at` to its `ended_at`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

SHORT_ABANDON = 5.0  # seconds: hung up this soon, counted but no callback (docs/tickets.md)
DEFAULT_SERVICE_LEVEL = 20
VOICEMAIL = "voicemail"
PERIODS = ("day", "week", "month")


def utc(dt: datetime | None) -> datetime | None:
    """A stored time as aware UTC (SQLite gives it back naive)."""
    if dt is not None and dt.tzinfo is None:
        return dt.replace(tzinfo=UTC)
    return dt


@dataclass(frozen=True)
class OfferRec:
    """One agent offered one call: when they confirmed and when the call ended for them."""

    agent_id: str
    loop_id: str | None
    answered_at: datetime | None = None
    ended_at: datetime | None = None


@dataclass(frozen=True)
class CallRec:
    """What the statistics need of one stored call."""

    call_sid: str
    started_at: datetime
    kind: str = "switchboard"
    ended_at: datetime | None = None
    stage: str = "menu"
    outcome: str | None = None
    path: tuple[tuple[str, datetime], ...] = ()
    direct_agent_id: str | None = None
    offers: tuple[OfferRec, ...] = ()
    voicemail_left: bool = False
    callback: tuple[str | None, str | None] | None = None  # (loop_id, agent_id) of its ticket

    @property
    def answer(self) -> OfferRec | None:
        """The offer that answered the call, if any."""
        return next((o for o in self.offers if o.answered_at is not None), None)


@dataclass(frozen=True)
class Visit:
    """One stay of a call in one loop."""

    loop_id: str
    entered: datetime
    result: str  # answered | abandoned | overflowed | waiting | ended
    wait: float | None  # seconds in the loop, None while it goes on
    to_voicemail: bool = False  # the overflow went to voicemail


def visits(call: CallRec) -> list[Visit]:
    """The call's visits to loops, in order."""
    out: list[Visit] = []
    answer = call.answer
    for i, (where, entered) in enumerate(call.path):
        if where == VOICEMAIL:
            continue
        if i + 1 < len(call.path):
            nxt, left = call.path[i + 1]
            out.append(Visit(where, entered, "overflowed", _secs(entered, left),
                             to_voicemail=nxt == VOICEMAIL))
        elif answer is not None and answer.answered_at is not None:
            out.append(Visit(where, entered, "answered", _secs(entered, answer.answered_at)))
        elif call.ended_at is None:
            out.append(Visit(where, entered, "waiting", None))
        elif call.stage in ("loop", "queue"):
            out.append(Visit(where, entered, "abandoned", _secs(entered, call.ended_at)))
        else:
            out.append(Visit(where, entered, "ended", _secs(entered, call.ended_at)))
    return out


def _secs(a: datetime, b: datetime) -> float:
    return max(0.0, (b - a).total_seconds())


def talk_seconds(call: CallRec, now: datetime) -> float:
    """Seconds the answering agent talked (up to now while the call goes on)."""
    answer = call.answer
    if answer is None or answer.answered_at is None:
        return 0.0
    end = answer.ended_at or call.ended_at or now
    return _secs(answer.answered_at, end)


@dataclass
class Figures:
    """The counts and times of one loop, one agent, or everything."""

    offered: int = 0
    answered: int = 0
    abandoned: int = 0
    abandoned_short: int = 0
    overflowed: int = 0
    voicemail: int = 0
    callbacks: int = 0
    within_service_level: int = 0
    waits: list[float] = field(default_factory=list)
    answer_waits: list[float] = field(default_factory=list)
    abandon_waits: list[float] = field(default_factory=list)
    talks: list[float] = field(default_factory=list)

    def add_answer(self, wait: float, target: int, talk: float) -> None:
        """Count an answered call: its wait against the target, and its talk time."""
        self.answered += 1
        self.within_service_level += wait <= target
        self.answer_waits.append(wait)
        self.waits.append(wait)
        self.talks.append(talk)

    def add_abandon(self, wait: float) -> None:
        """Count a caller who hung up after `wait` seconds."""
        self.abandoned += 1
        self.abandoned_short += wait <= SHORT_ABANDON
        self.abandon_waits.append(wait)
        self.waits.append(wait)

    @property
    def service_level(self) -> float | None:
        """Share of answered calls answered within the target; None when none were answered."""
        return round(self.within_service_level / self.answered, 4) if self.answered else None

    def as_dict(self) -> dict[str, Any]:
        """The figures as JSON-ready numbers (seconds to 0.1 s)."""
        return {
            "offered": self.offered, "answered": self.answered, "abandoned": self.abandoned,
            "abandoned_short": self.abandoned_short,
            "abandon_avg_s": _avg(self.abandon_waits), "abandon_max_s": _max(self.abandon_waits),
            "overflowed": self.overflowed, "voicemail": self.voicemail,
            "callbacks": self.callbacks, "service_level": self.service_level,
            "wait_avg_s": _avg(self.waits), "wait_max_s": _max(self.waits),
            "answer_avg_s": _avg(self.answer_waits),
            "talk_s": round(sum(self.talks), 1), "talk_avg_s": _avg(self.talks),
        }


def _avg(xs: list[float]) -> float | None:
    return round(sum(xs) / len(xs), 1) if xs else None


def _max(xs: list[float]) -> float | None:
    return round(max(xs), 1) if xs else None


@dataclass(frozen=True)
class LoopConf:
    """A loop as the statistics need it."""

    id: str
    name: str
    service_level_seconds: int = DEFAULT_SERVICE_LEVEL
    members: tuple[str, ...] = ()
    ring_timeout: int = 20
    active: bool = True


@dataclass
class Tally:
    """Figures per loop, per agent and in total over a set of calls."""

    loops: dict[str, Figures] = field(default_factory=dict)
    agents: dict[str, Figures] = field(default_factory=dict)
    total: Figures = field(default_factory=Figures)
    calls: int = 0


def tally(calls: Iterable[CallRec], targets: Mapping[str, int], *, now: datetime) -> Tally:
    """Count every call: per loop (each visit), per agent (offers, answers, direct line), total."""
    t = Tally()

    def loop(lid: str) -> Figures:
        return t.loops.setdefault(lid, Figures())

    def agent(aid: str) -> Figures:
        return t.agents.setdefault(aid, Figures())

    for call in calls:
        t.calls += 1
        _count_call(call, targets, now, loop, agent, t.total)
    return t


def _count_call(call: CallRec, targets: Mapping[str, int], now: datetime, loop: Any,
                agent: Any, total: Figures) -> None:
    answer = call.answer
    talk = talk_seconds(call, now)
    vs = visits(call)
    for v in vs:
        f = loop(v.loop_id)
        f.offered += 1
        if v.result == "answered" and v.wait is not None:
            f.add_answer(v.wait, targets.get(v.loop_id, DEFAULT_SERVICE_LEVEL), talk)
        elif v.result == "abandoned" and v.wait is not None:
            f.add_abandon(v.wait)
        elif v.result == "overflowed":
            f.overflowed += 1
            f.waits.append(v.wait or 0.0)
            f.voicemail += v.to_voicemail and call.voicemail_left
        elif v.result == "ended" and v.wait is not None:
            f.waits.append(v.wait)
    for aid in {o.agent_id for o in call.offers}:
        agent(aid).offered += 1
    direct = call.kind == "direct" and not vs and call.direct_agent_id is not None
    if direct:
        a = agent(call.direct_agent_id)
        if call.ended_at is not None and answer is None and call.stage == "direct":
            a.add_abandon(_secs(call.started_at, call.ended_at))
        a.voicemail += call.voicemail_left
    if answer is not None and answer.answered_at is not None:
        last = vs[-1] if vs else None
        if last is not None and last.result == "answered" and last.wait is not None:
            wait, target = last.wait, targets.get(last.loop_id, DEFAULT_SERVICE_LEVEL)
        else:
            wait, target = _secs(call.started_at, answer.answered_at), DEFAULT_SERVICE_LEVEL
        agent(answer.agent_id).add_answer(wait, target, talk)
    if call.callback is not None:
        cb_loop, cb_agent = call.callback
        if cb_loop:
            loop(cb_loop).callbacks += 1
        elif cb_agent:
            agent(cb_agent).callbacks += 1
    _count_total(call, vs, answer, targets, talk, total)


def _count_total(call: CallRec, vs: list[Visit], answer: OfferRec | None,
                 targets: Mapping[str, int], talk: float, total: Figures) -> None:
    """Each call once: from its first loop (or its direct line's ring) to its end."""
    start = vs[0].entered if vs else (call.started_at if call.kind == "direct" else None)
    if start is None:
        total.voicemail += call.voicemail_left
        total.callbacks += call.callback is not None
        return
    total.offered += 1
    total.overflowed += any(v.result == "overflowed" for v in vs)
    total.voicemail += call.voicemail_left
    total.callbacks += call.callback is not None
    if answer is not None and answer.answered_at is not None:
        last = vs[-1] if vs else None
        target = targets.get(last.loop_id, DEFAULT_SERVICE_LEVEL) if last else \
            DEFAULT_SERVICE_LEVEL
        # The service level counts the wait in the answering loop; the total wait is the
        # caller's whole time before the answer.
        in_loop = last.wait if last is not None and last.wait is not None else \
            _secs(start, answer.answered_at)
        total.answered += 1
        total.within_service_level += in_loop <= target
        total.answer_waits.append(_secs(start, answer.answered_at))
        total.waits.append(_secs(start, answer.answered_at))
        total.talks.append(talk)
    elif call.ended_at is not None and call.stage in ("loop", "queue", "direct"):
        total.add_abandon(_secs(start, call.ended_at))
    elif call.ended_at is not None:
        left = next((at for where, at in call.path if where == VOICEMAIL), call.ended_at)
        total.waits.append(_secs(start, left))


# --- periods -------------------------------------------------------------------------------


def period_days(period: str, day: date) -> tuple[date, date]:
    """The local dates [first, after last) of the day, ISO week or month that holds `day`."""
    if period == "day":
        return day, day + timedelta(days=1)
    if period == "week":
        monday = day - timedelta(days=day.weekday())
        return monday, monday + timedelta(days=7)
    if period == "month":
        first = day.replace(day=1)
        nxt = (first + timedelta(days=32)).replace(day=1)
        return first, nxt
    raise ValueError(f"period must be one of {', '.join(PERIODS)}")


def local_midnight(day: date, tz: str) -> datetime:
    """The instant (UTC) a local date starts: days around a DST change are 23 or 25 hours."""
    return datetime.combine(day, time(0), tzinfo=ZoneInfo(tz)).astimezone(UTC)


def period_bounds(period: str, day: date, tz: str) -> tuple[datetime, datetime]:
    """[start, end) in UTC of the period that holds `day`, in the organisation's time zone."""
    first, after = period_days(period, day)
    return local_midnight(first, tz), local_midnight(after, tz)


def buckets(period: str, start: datetime, end: datetime, tz: str) -> list[tuple[datetime, str]]:
    """The chart's buckets: each hour of a day (23 or 25 on DST days), else each day."""
    zone = ZoneInfo(tz)
    out: list[tuple[datetime, str]] = []
    if period == "day":
        at = start
        seen: set[str] = set()
        while at < end:
            local = at.astimezone(zone)
            label = local.strftime("%H")
            if label in seen:  # the hour that comes twice when the clocks go back
                label += local.strftime(" %Z")
            seen.add(label)
            out.append((at, label))
            at += timedelta(hours=1)
        return out
    day = start.astimezone(zone).date()
    while (at := local_midnight(day, tz)) < end:
        out.append((at, day.strftime("%d.%m")))
        day += timedelta(days=1)
    return out


def series(calls: Iterable[CallRec], marks: list[tuple[datetime, str]]) -> list[dict[str, Any]]:
    """Per bucket: calls that reached a loop or a direct line, answered, abandoned."""
    counts = [{"offered": 0, "answered": 0, "abandoned": 0} for _ in marks]
    starts = [at for at, _ in marks]
    for call in calls:
        i = _bucket(starts, call.started_at)
        if i is None or (not call.path and call.kind != "direct"):
            continue
        row = counts[i]
        row["offered"] += 1
        if call.answer is not None:
            row["answered"] += 1
        elif call.ended_at is not None and call.stage in ("loop", "queue", "direct"):
            row["abandoned"] += 1
    return [{"start": at.isoformat(), "label": label, **n}
            for (at, label), n in zip(marks, counts, strict=True)]


def _bucket(starts: list[datetime], at: datetime) -> int | None:
    found = None
    for i, s in enumerate(starts):
        if at >= s:
            found = i
        else:
            break
    return found


def time_in_line(call: CallRec) -> float | None:
    """Seconds from the call's first loop until answered, sent to voicemail, or hung up."""
    vs = visits(call)
    if not vs or vs[-1].result == "waiting":
        return None
    start = vs[0].entered
    answer = call.answer
    if answer is not None and answer.answered_at is not None:
        return _secs(start, answer.answered_at)
    left = next((at for where, at in call.path if where == VOICEMAIL), call.ended_at)
    return _secs(start, left) if left is not None else None


def outcome(call: CallRec) -> str:
    """One word for how the call ended: answered, abandoned, voicemail, closed or hangup."""
    if call.answer is not None:
        return "answered"
    if call.voicemail_left:
        return "voicemail"
    if call.stage in ("loop", "queue", "direct"):
        return "abandoned"
    if call.outcome == "closed" or call.stage == "closed":
        return "closed"
    return "hangup"  # at the menu, or at the voicemail beep without a message
