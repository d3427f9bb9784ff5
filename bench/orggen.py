"""The example organisation scaled up for the webhook bench: 200 agents in 20 loops.

It keeps examples/org.yaml's organisation block (name, hours, holidays, policies) and replaces
the people and loops: 20 loops of 10 named agents each, every strategy in turn. Digits 0-8 and
the English digit 9 lead into loops 1-10; each of those overflows into one of loops 11-20,
which end in voicemail, as the example's chains do. No calendars (the bench serves with
--no-calendar-sync, and a calendar path relative to the example would not resolve here).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

EXAMPLE_ORG = Path(__file__).resolve().parent.parent / "examples" / "org.yaml"
MAIN_NUMBER = "+4722000000"
STRATEGIES = ("ringall", "linear", "round_robin", "least_recent", "fewest_calls", "random")
MENU_DIGITS = ("1", "2", "3", "4", "5", "6", "7", "8", "0")
ENGLISH_DIGIT = "9"


def scaled_org(*, agents: int = 200, loops: int = 20) -> dict[str, Any]:
    """The example org file as a dict, with `agents` agents spread over `loops` loops."""
    base = yaml.safe_load(EXAMPLE_ORG.read_text(encoding="utf-8"))
    per_loop = agents // loops
    people = [{"id": f"agent{i:03d}", "name": f"Agent {i:03d}",
               "phone": f"+479{i:07d}", "email": f"agent{i:03d}@example.org",
               "roles": [f"team{i // per_loop + 1:02d}"]}
              for i in range(1, agents + 1)]
    entry = loops // 2  # loops 1..entry are reached from the menu, the rest by overflow
    spec = []
    for n in range(1, loops + 1):
        members = [p["id"] for p in people[(n - 1) * per_loop:n * per_loop]]
        overflow = f"loop{n + entry:02d}" if n <= entry else "voicemail"
        spec.append({"id": f"loop{n:02d}", "name": f"Kø {n}", "members": members,
                     "strategy": STRATEGIES[(n - 1) % len(STRATEGIES)], "ring_timeout": 20,
                     "max_wait": 120, "wrap_up": 10, "overflow": overflow})
    menu = {d: f"loop{i + 1:02d}" for i, d in enumerate(MENU_DIGITS[:entry - 1])}
    return {
        "organisation": base["organisation"],
        "kid": base.get("kid"),
        "calendar_policy": base.get("calendar_policy"),
        "numbers": [{"number": MAIN_NUMBER, "kind": "switchboard"},
                    {"number": "+4722000111", "kind": "direct", "agent": people[0]["id"]}],
        "menu": menu,
        "menu_default": menu[MENU_DIGITS[0]],
        "english": {"digit": ENGLISH_DIGIT, "loop": f"loop{entry:02d}"},
        "agents": people,
        "loops": spec,
    }


def entry_digits(org: dict[str, Any]) -> list[str]:
    """Every digit that routes into a loop at the menu (the menu's and the English one)."""
    return sorted(org["menu"]) + [org["english"]["digit"]]


def write_scaled_org(path: Path, **kw: int) -> dict[str, Any]:
    """Write the scaled org file to `path` and return it as a dict."""
    org = scaled_org(**kw)
    path.write_text(yaml.safe_dump(org, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return org
