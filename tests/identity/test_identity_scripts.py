"""The scripts' state machine on its own (pure: no database, no HTTP)."""

from __future__ import annotations

import pytest

from identity import scripts
from identity.scripts import ScriptState, StepRefused, advance, start


def test_member_script_finishes_in_one_step() -> None:
    s = start(ScriptState(), "member")
    assert (s.script, s.step) == ("member", "identify")
    done = advance(s, "member_factors", ok=True, factors=("national_id", "membership_number"),
                   member_id=7)
    assert done.verified and done.level == "member_verified" and done.member_id == 7


def test_known_by_agent_level() -> None:
    s = advance(start(ScriptState(), "member"), "known", ok=True, member_id=1,
                level=scripts.LEVEL_KNOWN)
    assert s.level == "known_by_agent" and s.verified


def test_invoice_order_and_name_retry() -> None:
    s = start(ScriptState(), "invoice")
    with pytest.raises(StepRefused):
        advance(s, "payer_factors", ok=True)
    s = advance(s, "kid", ok=True, factors=("kid",), member_id=3)
    assert not s.details_allowed and s.member_id == 3
    s = advance(s, "name_said", ok=True)
    s = advance(s, "name_confirm", ok=False)
    assert s.step == "name" and s.failures == 1
    s = advance(advance(s, "name_said", ok=True), "name_confirm", ok=True, factors=("name",))
    s = advance(s, "payer_factors", ok=True, factors=("national_id",))
    assert s.level == "invoice_payer_verified" and s.factors == ("kid", "name", "national_id")


def test_case_order() -> None:
    s = start(ScriptState(), "case")
    assert not s.candidates_allowed
    for action in ("case_subject", "consent", "case_factors"):
        s = advance(s, action, ok=True, member_id=5 if action == "case_subject" else None)
    assert s.level == "case_proxy_verified" and s.member_id == 5


def test_three_failures_lock_and_switching_does_not_reset() -> None:
    s = start(ScriptState(), "member")
    for _ in range(3):
        s = advance(s, "member_factors", ok=False)
    assert s.locked and s.attempts_left == 0 and not s.verified
    with pytest.raises(StepRefused) as info:
        advance(s, "member_factors", ok=True)
    assert info.value.reason == "locked"
    with pytest.raises(StepRefused):
        start(s, "invoice")


def test_failures_carry_over_a_script_switch() -> None:
    s = advance(start(ScriptState(), "member"), "member_factors", ok=False)
    s = start(s, "case")
    assert s.failures == 1 and s.attempts_left == 2


def test_wrong_script_is_not_now() -> None:
    with pytest.raises(StepRefused) as info:
        advance(start(ScriptState(), "member"), "kid", ok=True)
    assert info.value.reason == "not_now"
