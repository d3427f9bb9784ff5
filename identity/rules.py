"""The organisation's identity settings (org file `identity:`), read from Organisation.config."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session

from identity.fnr import PLACEHOLDER_PERSONNUMMER
from routing.models import Organisation

LOCK_FAILURES = 3
LOCK_WINDOW_HOURS = 24


@dataclass(frozen=True)
class IdentityRules:
    """Placeholder suffixes and the lock: failures allowed per member and calling number."""

    placeholder_suffixes: tuple[str, ...] = PLACEHOLDER_PERSONNUMMER
    lock_failures: int = LOCK_FAILURES
    lock_window_hours: int = LOCK_WINDOW_HOURS

    @classmethod
    def from_config(cls, config: dict | None) -> IdentityRules:
        """Read `config["identity"]` (already validated by the org-file schema); defaults when
        the section is missing."""
        section = (config or {}).get("identity") or {}
        suffixes = section.get("placeholder_suffixes")
        return cls(
            placeholder_suffixes=(PLACEHOLDER_PERSONNUMMER if suffixes is None
                                  else tuple(str(s) for s in suffixes)),
            lock_failures=int(section.get("lock_failures", LOCK_FAILURES)),
            lock_window_hours=int(section.get("lock_window_hours", LOCK_WINDOW_HOURS)),
        )


def load_rules(session: Session) -> IdentityRules:
    """The applied org file's identity rules (the defaults before any org file is applied)."""
    org = session.get(Organisation, 1)
    return IdentityRules.from_config(org.config if org else None)
