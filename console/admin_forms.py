"""The admin pages' forms as org-file data, and back: plain functions, no I/O.

A form never decides what is valid: it turns text inputs into the org file's shapes (lists,
numbers, nulls for empty optional fields) and the org file's own validation judges the result,
so a page's errors name the same fields as the file's and the API's.
"""

from __future__ import annotations

import re
from typing import Any

Form = dict[str, Any]  # field -> str, or list[str] for repeated fields
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def text(form: Form, key: str) -> str:
    """One field's text, stripped ("" when absent)."""
    value = form.get(key, "")
    if isinstance(value, list):
        value = value[0] if value else ""
    return str(value).strip()


def many(form: Form, key: str) -> list[str]:
    """A repeated field's values, stripped."""
    value = form.get(key, [])
    return [str(v).strip() for v in (value if isinstance(value, list) else [value])]


def optional(form: Form, key: str) -> str | None:
    """Text, or None when empty (the org file's "leave it out")."""
    return text(form, key) or None


def number(form: Form, key: str) -> Any:
    """An int when the text is one; otherwise the text, for the validation to name."""
    value = text(form, key)
    return int(value) if re.fullmatch(r"-?\d+", value) else value


def id_list(value: str) -> list[str]:
    """Ids separated by commas, spaces or new lines, in order, without repeats."""
    out: list[str] = []
    for part in re.split(r"[\s,]+", value):
        if part and part not in out:
            out.append(part)
    return out


def agent_data(form: Form, current: dict[str, Any] | None) -> dict[str, Any]:
    """An agent entry from the agent form; state fields stay as the org file has them."""
    out = {k: v for k, v in (current or {}).items()
           if k in ("logged_in", "logout_reason", "routing_stop")}
    out |= {"id": text(form, "id") or (current or {}).get("id", ""), "name": text(form, "name"),
            "phone": text(form, "phone"), "roles": id_list(text(form, "roles")),
            "access": text(form, "access") or "agent"}
    if optional(form, "email"):
        out["email"] = text(form, "email")
    source = text(form, "calendar_source")
    if source == "ics":
        out["calendar"] = {"source": "ics", "url": text(form, "calendar_url")}
    elif source in ("ews", "graph"):
        out["calendar"] = {"source": source, "mailbox": text(form, "calendar_mailbox")}
    return out


def loop_data(form: Form, current: dict[str, Any] | None) -> dict[str, Any]:
    """A loop entry from the loop form."""
    out: dict[str, Any] = {
        "id": text(form, "id") or (current or {}).get("id", ""),
        "name": text(form, "name"),
        "members": id_list(text(form, "members")),
        "roles": id_list(text(form, "roles")),
        "strategy": text(form, "strategy") or "ringall",
        "ring_timeout": number(form, "ring_timeout") if text(form, "ring_timeout") else 20,
        "max_wait": number(form, "max_wait") if text(form, "max_wait") else 0,
        "wrap_up": number(form, "wrap_up") if text(form, "wrap_up") else 0,
        "overflow": text(form, "overflow") or "voicemail",
    }
    if text(form, "service_level_seconds"):
        out["service_level_seconds"] = number(form, "service_level_seconds")
    for key in ("name_en", "department"):
        if optional(form, key):
            out[key] = text(form, key)
    return out


def numbers_data(form: Form) -> list[dict[str, Any]]:
    """The numbers table: one row per number; a row with an empty number is dropped."""
    rows = []
    for num, kind, agent, remove in zip(many(form, "number"), many(form, "kind"),
                                        many(form, "agent"), many(form, "remove"), strict=False):
        if not num or remove == "1":
            continue
        row: dict[str, Any] = {"number": num, "kind": kind or "switchboard"}
        if kind == "direct" or agent:
            row["agent"] = agent or None
        rows.append(row)
    return rows


def menu_data(form: Form, current: dict[str, Any]) -> dict[str, Any]:
    """The menu section (menu, menu_default, english; prompts kept as they are)."""
    menu = {}
    for digit, loop in zip(many(form, "digit"), many(form, "loop"), strict=False):
        if digit and loop:
            menu[digit] = loop
    english = None
    if text(form, "english_digit") or text(form, "english_loop"):
        english = {"digit": text(form, "english_digit"), "loop": text(form, "english_loop")}
    return {"menu": menu, "menu_default": optional(form, "menu_default"), "english": english,
            "prompts": current.get("prompts")}


def hours_data(form: Form) -> dict[str, Any]:
    """The hours section: weekly hours, closed days, special hours ("date range" lines)."""
    weekly = {d: text(form, d) for d in WEEKDAYS if text(form, d)}
    special: dict[str, str] = {}
    for line in text(form, "special_hours").splitlines():
        parts = line.split(None, 1)
        if parts:
            special[parts[0]] = parts[1].strip() if len(parts) > 1 else ""
    return {"opening_hours": weekly or None,
            "closed_days": [d for d in re.split(r"[\s,]+", text(form, "closed_days")) if d],
            "special_hours": special}


def department_data(form: Form, current: dict[str, Any] | None) -> dict[str, Any]:
    """A department entry from its form."""
    out: dict[str, Any] = {"id": text(form, "id") or (current or {}).get("id", ""),
                           "name": text(form, "name"), "email": text(form, "email"),
                           "deadline": text(form, "deadline"),
                           "members": id_list(text(form, "members"))}
    if optional(form, "escalation"):
        out["escalation"] = text(form, "escalation")
    return out


def differences(mine: dict[str, Any], current: Any) -> str:
    """What the user sent that differs from the current version ("key: value; …")."""
    if not isinstance(current, dict):
        current = {}
    parts = [f"{k}: {_show(v)}" for k, v in mine.items() if current.get(k) != v]
    return "; ".join(parts) or "-"


def _show(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if isinstance(value, dict):
        return ", ".join(f"{k} {v}" for k, v in value.items())
    return "" if value is None else str(value)
