"""Text that cannot be written (a lone surrogate, from an escape such as "\\ud800").

The org file refuses it, naming the field; and a call whose answer cannot be written anyway
(text stored before the check, or put in by hand) hears the fallback, never an error page.
"""

from __future__ import annotations

import json

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine

from switchboard.orgfile import OrgFileError, parse_org_text
from switchboard.settings import Settings
from tests.ivr_steps import CALLER, MAIN, SMALL_ORG, assert_fallback, start
from tests.twilio_harness import make_app, new_sid

# YAML's escape for half of a surrogate pair: not a character, so not text.
LONE = "\\ud800"


@pytest.mark.parametrize(("org_text", "where"), [
    (SMALL_ORG + f'prompts:\n  nb: {{greeting: "Velkommen {LONE} til oss."}}\n',
     "prompts.nb.greeting"),
    (SMALL_ORG.replace("name: Køen", f'name: "Kø{LONE}en"'), "loops[0].name"),
    (SMALL_ORG.replace("name: Agent En", f'name: "Agent {LONE}En"'), "agents[0].name"),
    (SMALL_ORG.replace("  name: Testforbundet", f'  name: "Test{LONE}forbundet"'),
     "organisation.name"),
    (SMALL_ORG.replace("  name: Testforbundet", f'  name: Testforbundet\n  name_en: "T{LONE}"'),
     "organisation.name_en"),
    (SMALL_ORG.replace("name: Køen,", f'name: Køen, name_en: "Queue {LONE}",'),
     "loops[0].name_en"),
    (SMALL_ORG.replace("  timezone: Europe/Oslo",
                       f'  timezone: Europe/Oslo\n  greeting_line: {{nb: "Hei {LONE}"}}'),
     "organisation.greeting_line.nb"),
])
def test_org_file_refuses_a_lone_surrogate_naming_the_field(org_text: str, where: str) -> None:
    with pytest.raises(OrgFileError) as caught:
        parse_org_text(org_text)
    message = str(caught.value)
    message.encode("utf-8")  # the error itself can be printed
    assert message.startswith(where + " (line ")
    assert "U+D800" in message and "not text" in message


def test_an_answer_that_cannot_be_written_gets_the_fallback(
        settings: Settings, engine: Engine) -> None:
    org = SMALL_ORG + 'prompts:\n  nb: {greeting: "Velkommen XX til oss."}\n'
    tw = make_app(settings, engine, org)
    # Text stored before the org file was checked: JSON keeps the escape as it is.
    with engine.begin() as conn:
        config = conn.execute(text("SELECT config FROM organisation WHERE id = 1")).scalar_one()
        raw = config if isinstance(config, str) else json.dumps(config)
        conn.execute(text("UPDATE organisation SET config = :c WHERE id = 1"),
                     {"c": raw.replace("XX", LONE)})
    tw.client.app.state.flow.cache.invalidate()  # type: ignore[attr-defined]
    code, root, stage = start(tw, new_sid(), to=MAIN, frm=CALLER)
    assert root is not None
    assert_fallback(code, root, stage)
