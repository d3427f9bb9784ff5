"""Give each feed's VTIMEZONEs names of their own, so a feed's own zone rules govern its events.

icalendar (7.x) keeps the zones it parses in one process-wide cache keyed by TZID
(`icalendar.timezone.tzp`, filled by the parser at every `END:VTIMEZONE`; the first definition
of a name wins), and for a name its zone database knows (`Europe/Oslo`, or a Windows name such
as `W. Europe Standard Time`) it ignores the feed's VTIMEZONE altogether. Exchange exports
every mailbox's own zone as `TZID:Customized Time Zone`, with different rules per mailbox, so
one feed's meetings were placed by another feed's rules. The installed icalendar has no way to
hand a parse its own zone table (the cache is module state, read by the property parsers), so
before parsing we rename each VTIMEZONE, and every TZID parameter that refers to it, to a name
derived from the block's rules. Two feeds with one name but other rules then get two names;
the same rules get one name, so the cache grows only with the distinct definitions seen.
"""

from __future__ import annotations

import hashlib

import icalendar
from icalendar.parser import Contentline, Contentlines
from icalendar.timezone import tzp

# Lines that name or describe a VTIMEZONE without changing its rules: left out of the digest.
_NOT_RULES = ("TZID", "TZURL", "LAST-MODIFIED")
_PREFIX = "SWITCHBOARD-FEED-ZONE-"


def _name(line: str) -> str:
    return line.split(":", 1)[0].split(";", 1)[0].strip().upper()


def _marks(line: str, word: str) -> bool:
    """Whether line is BEGIN:VTIMEZONE (word "BEGIN") or END:VTIMEZONE (word "END")."""
    return _name(line) == word and line.partition(":")[2].strip().upper() == "VTIMEZONE"


def _value(line: Contentline) -> str | None:
    try:
        return line.parts()[2]
    except ValueError:  # a line icalendar cannot split; the parser decides what to do with it
        return None


def _blocks(lines: Contentlines) -> dict[str, list[str]]:
    """Each TZID the feed defines, with the lines of its first VTIMEZONE block."""
    blocks: dict[str, list[str]] = {}
    block: list[str] | None = None
    tzid: str | None = None
    for line in lines:
        if _marks(line, "BEGIN"):
            block, tzid = [line], None
        elif block is not None:
            block.append(line)
            if _name(line) == "TZID":
                tzid = _value(line)
            elif _marks(line, "END"):
                if tzid is not None:
                    blocks.setdefault(tzid, block)
                block = None
    return blocks


def _own_id(tzid: str, block: list[str]) -> str | None:
    """The block's new name, or None if its rules do not build a zone."""
    rules = [line for line in block
             if _name(line) not in _NOT_RULES and not _name(line).startswith("X-")]
    new_id = _PREFIX + hashlib.sha256("\r\n".join(rules).encode("utf-8", "replace")).hexdigest()
    renamed = [f"TZID:{new_id}" if _name(line) == "TZID" else line for line in block]
    try:
        # Parsing the block alone under its new name builds the zone once and leaves it in the
        # cache, where the feed's own parse finds it (a name seen before is not built again).
        icalendar.Timezone.from_ical("\r\n".join(renamed) + "\r\n")
    except Exception:  # icalendar and dateutil raise ValueError and friends on broken rules
        return None
    return new_id if tzp.timezone(new_id) is not None else None


def _value_at(line: str) -> int:
    """Index of the colon that ends the name and parameters (quoted values may hold colons)."""
    quoted = False
    for i, ch in enumerate(line):
        if ch == '"':
            quoted = not quoted
        elif ch == ":" and not quoted:
            return i
    return -1


def _renamed(line: Contentline, ids: dict[str, str], in_zone: bool) -> str:
    try:
        name, params, _ = line.parts()
    except ValueError:  # a line icalendar cannot split; the parser decides what to do with it
        return line
    if name.upper() == "TZID" and in_zone:
        tzid = _value(line)
        return f"TZID:{ids[tzid]}" if tzid in ids else line
    tzid = params.get("TZID")
    at = _value_at(line)
    if not isinstance(tzid, str) or tzid not in ids or at < 0:
        return line
    params["TZID"] = ids[tzid]
    # The value is kept byte for byte; only the parameters are written again.
    return f"{name};{params.to_ical(sorted=False).decode()}{line[at:]}"


def own_zones(body: bytes | str) -> bytes | str:
    """The feed with its VTIMEZONEs (and the TZIDs that use them) renamed by their rules.

    A block that does not build a zone (no rules, no DTSTART) keeps its name: for a name the
    zone database knows, that name's standard rules then apply, as before.
    """
    lines = Contentlines.from_ical(body)
    ids = {tzid: new for tzid, block in _blocks(lines).items()
           if (new := _own_id(tzid, block)) is not None}
    if not ids:
        return body
    out: list[str] = []
    in_zone = False
    for line in lines:
        if "TZID" in line.upper():
            out.append(_renamed(line, ids, in_zone))
            continue
        if _marks(line, "BEGIN") or _marks(line, "END"):
            in_zone = _marks(line, "BEGIN")
        out.append(line)
    return "\r\n".join(out)
