"""The desk's words (nb, en) and the status label an agent's presence gets."""

from __future__ import annotations

from datetime import datetime, tzinfo
from typing import Any

from console.i18n import register, translate

register({
    "nb": {
        "desk.title": "Desk",
        "desk.my_status": "Din status",
        "desk.colleagues": "Kolleger",
        "desk.no_colleagues": "Ingen andre agenter.",
        "desk.no_call": "Ingen samtale akkurat nå.",
        "desk.calls": "Samtaler",
        "desk.trap": "Heldagsavtalen din i dag er merket Ledig, så køsamtaler kommer fortsatt.",
        "desk.trap_button": "Ta rutingstopp resten av dagen",
        "desk.trap_outlook": "For å unngå dette neste gang: åpne avtalen i Outlook og sett "
                             "«Vis som: Opptatt» (Show as: Busy).",
        "desk.stopped_until": "Rutingstopp til {time}.",
        "pop.ringing": "Ringer",
        "pop.up": "I samtale",
        "pop.say": "Si:",
        "pop.caller": "Innringer",
        "pop.withheld": "skjult nummer",
        "pop.unknown_number": "ukjent nummer",
        "pop.line": "Linje",
        "pop.switchboard": "sentralbord",
        "pop.direct": "direktelinje",
        "pop.loop": "Sløyfe",
        "pop.choice": "menyvalg {digit}",
        "pop.english": "engelsk",
        "pop.members": "Medlemmer med dette nummeret",
        "pop.unverified": "ikke verifisert",
        "pop.no_members": "Ingen medlemmer registrert med dette nummeret.",
        "panel.title": "Samtalen",
        "panel.none": "Ingen besvart samtale ennå.",
        "panel.ended": "Samtalen er avsluttet.",
        "status.available": "Tilgjengelig",
        "status.logged_out": "Logget ut",
        "status.routing_stop": "Rutingstopp",
        "status.ringing": "Ringer",
        "status.on_call": "I samtale",
        "status.wrap_up": "Etterarbeid",
        "status.calendar_busy": "I møte",
        "status.calendar_busy_until": "I møte til {time}",
        "status.closed": "Stengt",
    },
    "en": {
        "desk.title": "Desk",
        "desk.my_status": "Your status",
        "desk.colleagues": "Colleagues",
        "desk.no_colleagues": "No other agents.",
        "desk.no_call": "No call right now.",
        "desk.calls": "Calls",
        "desk.trap": "Your all-day event today is marked Free, so queue calls still come.",
        "desk.trap_button": "Take a routing stop for the rest of the day",
        "desk.trap_outlook": "To avoid this next time: open the event in Outlook and set "
                             "“Show as: Busy”.",
        "desk.stopped_until": "Routing stop until {time}.",
        "pop.ringing": "Ringing",
        "pop.up": "On the call",
        "pop.say": "Say:",
        "pop.caller": "Caller",
        "pop.withheld": "withheld number",
        "pop.unknown_number": "unknown number",
        "pop.line": "Line",
        "pop.switchboard": "switchboard",
        "pop.direct": "direct line",
        "pop.loop": "Loop",
        "pop.choice": "menu choice {digit}",
        "pop.english": "English",
        "pop.members": "Members with this number",
        "pop.unverified": "not verified",
        "pop.no_members": "No member is registered with this number.",
        "panel.title": "The call",
        "panel.none": "No answered call yet.",
        "panel.ended": "The call has ended.",
        "status.available": "Available",
        "status.logged_out": "Logged out",
        "status.routing_stop": "Routing stop",
        "status.ringing": "Ringing",
        "status.on_call": "On a call",
        "status.wrap_up": "Wrap-up",
        "status.calendar_busy": "In a meeting",
        "status.calendar_busy_until": "In a meeting until {time}",
        "status.closed": "Closed",
    },
})


def status_label(lang: str, item: dict[str, Any], tz: tzinfo) -> str:
    """"Tilgjengelig", "I møte til 12:00", … for one presence item (CONTRACT-shaped dict)."""
    state = item["state"]
    if state == "calendar_busy" and item.get("busy_until"):
        until = datetime.fromisoformat(item["busy_until"]).astimezone(tz)
        return translate(lang, "status.calendar_busy_until", time=until.strftime("%H:%M"))
    return translate(lang, f"status.{state}")
