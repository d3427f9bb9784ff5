"""The three verification scripts as one pure state machine per call.

The service looks facts up (does this ID belong to that member?) and feeds the outcome in as
an event; this module only decides what may happen next, counts failures and locks.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

MAX_FAILURES = 3
GENERIC_FAILURE = (
    "The details given could not be verified. Nothing about the member may be confirmed "
    "to the caller."
)
LOCKED_MESSAGE = (
    "Verification is locked after repeated failed attempts (on this call, for this member or "
    "from this number). Offer to call the member back on the number in the register; the lock "
    "lifts when its window has passed or an admin unlocks it."
)
NOT_NOW = "This step is not available at this point of the script."
NOT_THE_MEMBER = (
    "Data fixes belong to the member: they are offered only when the member themself is "
    "verified (the member script, or the agent knows the member)."
)
NOT_A_CANDIDATE = (
    "Only a member matched by the calling number can be marked as known. For anyone else, "
    "run a script."
)
NOT_NEEDED = (
    "The register's national ID needs no correction: it is valid, and not an unconfirmed "
    "possible placeholder."
)
CANNOT_CONFIRM = (
    "The national ID on file is invalid or a known fake: it cannot be confirmed, only "
    "replaced by the member's real number."
)
CALL_ENDED = "The call has ended: nobody is on the line to give verification factors."
CONSENT_NOT_OBTAINED = (
    "Consent opens the case only when the member gave it on this call after verifying "
    "themself (the member script), or when the agent rang the member's registered number."
)

MEMBER, INVOICE, CASE = "member", "invoice", "case"
SCRIPTS = (MEMBER, INVOICE, CASE)
ON_BEHALF = (INVOICE, CASE)

# The level each script reaches, as kept on the call (tickets carry it).
LEVEL_NONE = "none"
LEVEL_KNOWN = "known_by_agent"
LEVELS = {MEMBER: "member_verified", INVOICE: "invoice_payer_verified",
          CASE: "case_proxy_verified"}

FIRST_STEP = {MEMBER: "identify", INVOICE: "kid", CASE: "subject"}
# action -> (script, step it is allowed in, step after success; "done" finishes the script)
ACTIONS: dict[str, tuple[str, str, str]] = {
    "known": (MEMBER, "identify", "done"),
    "member_factors": (MEMBER, "identify", "done"),
    "birth_date_factors": (MEMBER, "identify", "done"),
    "kid": (INVOICE, "kid", "name"),
    "name_said": (INVOICE, "name", "name_confirm"),
    "name_confirm": (INVOICE, "name_confirm", "national_id"),
    "payer_factors": (INVOICE, "national_id", "done"),
    "case_subject": (CASE, "subject", "consent"),
    "consent": (CASE, "consent", "verify"),
    "case_factors": (CASE, "verify", "done"),
}
# Where a failed step sends the script back to (the name is asked again after a mismatch).
RETRY_STEP = {"name_confirm": "name"}


class StepRefused(Exception):
    """The rules refuse this step now: locked, wrong script, or out of order."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason  # "locked" | "not_now"


@dataclass(frozen=True)
class ScriptState:
    """Where one call's verification stands."""

    script: str | None = None
    step: str = "idle"
    member_id: int | None = None  # whom the script is about; never shown before "done"
    failures: int = 0
    level: str = LEVEL_NONE
    factors: tuple[str, ...] = ()  # names of the factors checked so far, never values
    limit: int = MAX_FAILURES  # the org file's identity.lock_failures

    @property
    def locked(self) -> bool:
        """`limit` failures (on the call, the member or the calling number) lock verification."""
        return self.failures >= self.limit

    @property
    def attempts_left(self) -> int:
        """Failed attempts left before the lock."""
        return max(0, self.limit - self.failures)

    @property
    def verified(self) -> bool:
        """The member is verified or known by the agent."""
        return self.step == "done" and self.level != LEVEL_NONE

    @property
    def member_self(self) -> bool:
        """The member themself is verified (script 1) or known by the agent: only then may
        their data be changed and their full details shown."""
        return self.verified and self.level in (LEVELS[MEMBER], LEVEL_KNOWN)

    @property
    def details_allowed(self) -> bool:
        """Member details may be shown: after verification only (docs/identity-and-privacy.md)."""
        return self.verified

    @property
    def candidates_allowed(self) -> bool:
        """Calling-number matches may be listed, marked not verified, unless an on-behalf
        script is running (the caller is not the member then)."""
        return self.script not in ON_BEHALF


def start(state: ScriptState, script: str) -> ScriptState:
    """Begin (or switch to) a script; failures carry over so switching cannot reset the lock."""
    if script not in SCRIPTS:
        raise ValueError(f"unknown script {script!r}")
    if state.locked:
        raise StepRefused("locked")
    return ScriptState(script=script, step=FIRST_STEP[script], failures=state.failures,
                       limit=state.limit)


def check_allowed(state: ScriptState, action: str) -> None:
    """Raise StepRefused unless the action fits the script and step now."""
    script, step, _ = ACTIONS[action]
    if state.locked:
        raise StepRefused("locked")
    if state.script != script or state.step != step:
        raise StepRefused("not_now")


def advance(state: ScriptState, action: str, *, ok: bool, factors: tuple[str, ...] = (),
            member_id: int | None = None, level: str | None = None) -> ScriptState:
    """Apply one step's outcome: success moves on (finishing sets the level), failure counts."""
    check_allowed(state, action)
    script, step, following = ACTIONS[action]
    if not ok:
        return replace(state, failures=state.failures + 1,
                       step=RETRY_STEP.get(step, step))
    new = replace(
        state,
        step=following,
        factors=state.factors + tuple(f for f in factors if f not in state.factors),
        member_id=member_id if member_id is not None else state.member_id,
    )
    if following == "done":
        new = replace(new, level=level or LEVELS[script])
    return new
