# ruff: noqa: E501  (SOAP samples are kept as the server writes them)
"""A fake Exchange Web Services endpoint: GetServerTimeZones and GetUserAvailability.

Answers with SOAP shaped like the MicrosoftDocs and exchangelib samples in
tests/fixtures/ews/, so the real exchangelib parses real bytes.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from xml.sax.saxutils import escape
from zoneinfo import ZoneInfo

from lxml import etree

from tests.fakes.server import QuietHandler

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "ews"
SOAP = "http://schemas.xmlsoap.org/soap/envelope/"
M = "http://schemas.microsoft.com/exchange/services/2006/messages"
T = "http://schemas.microsoft.com/exchange/services/2006/types"
OSLO = ZoneInfo("Europe/Oslo")

HEAD = f"""<?xml version="1.0" encoding="utf-8"?>
<soap:Envelope xmlns:soap="{SOAP}" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
               xmlns:xsd="http://www.w3.org/2001/XMLSchema">
  <soap:Header>
    <t:ServerVersionInfo MajorVersion="15" MinorVersion="1" MajorBuildNumber="2507"
        MinorBuildNumber="6" Version="V2017_07_11" xmlns:t="{T}" />
  </soap:Header>
  <soap:Body>"""
TAIL = "\n  </soap:Body>\n</soap:Envelope>\n"

NOT_FOUND = f"""
        <FreeBusyResponse>
          <ResponseMessage ResponseClass="Error">
            <MessageText>Microsoft.Exchange.InfoWorker.Common.Availability.MailRecipientNotFoundException: Unable to resolve e-mail address to an Active Directory object.&#xD;
. Name of the server where exception originated: EXSRV01. LID: 57660</MessageText>
            <ResponseCode>ErrorMailRecipientNotFound</ResponseCode>
            <DescriptiveLinkKey>0</DescriptiveLinkKey>
          </ResponseMessage>
          <FreeBusyView>
            <FreeBusyViewType xmlns="{T}">None</FreeBusyViewType>
          </FreeBusyView>
        </FreeBusyResponse>"""

FAULT = f"""<?xml version="1.0" encoding="utf-8"?>
<s:Envelope xmlns:s="{SOAP}">
  <s:Body>
    <s:Fault>
      <faultcode xmlns:a="{T}">a:ErrorInternalServerError</faultcode>
      <faultstring xml:lang="en-US">An internal server error occurred. The operation failed.</faultstring>
      <detail>
        <e:ResponseCode xmlns:e="http://schemas.microsoft.com/exchange/services/2006/errors">ErrorInternalServerError</e:ResponseCode>
        <e:Message xmlns:e="http://schemas.microsoft.com/exchange/services/2006/errors">An internal server error occurred. The operation failed.</e:Message>
      </detail>
    </s:Fault>
  </s:Body>
</s:Envelope>
"""


@dataclass
class EwsEvent:
    start: datetime
    end: datetime
    busy_type: str = "Busy"  # Free | Tentative | Busy | OOF | WorkingElsewhere | NoData
    subject: str | None = None
    private: bool = False


@dataclass
class EwsState:
    calendars: dict[str, list[EwsEvent]] = field(default_factory=dict)
    delay: float = 0.0  # seconds added to every request
    fault: bool = False  # answer GetUserAvailability with a SOAP fault
    raw_availability: bytes | None = None  # answer GetUserAvailability with these bytes
    requests: list[str] = field(default_factory=list)  # operation names, in order
    batch_sizes: list[int] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def _event(ev: EwsEvent) -> str:
    details = ""
    if ev.subject is not None:
        details = f"""
                <CalendarEventDetails>
                  <ID>00000000{abs(hash((ev.start, ev.subject))) % 10**8:08d}</ID>
                  <Subject>{escape(ev.subject)}</Subject>
                  <Location />
                  <IsMeeting>true</IsMeeting>
                  <IsRecurring>false</IsRecurring>
                  <IsException>false</IsException>
                  <IsReminderSet>true</IsReminderSet>
                  <IsPrivate>{'true' if ev.private else 'false'}</IsPrivate>
                </CalendarEventDetails>"""
    return f"""
              <CalendarEvent>
                <StartTime>{ev.start.astimezone(OSLO).isoformat()}</StartTime>
                <EndTime>{ev.end.astimezone(OSLO).isoformat()}</EndTime>
                <BusyType>{ev.busy_type}</BusyType>{details}
              </CalendarEvent>"""


def _found(events: list[EwsEvent]) -> str:
    return f"""
        <FreeBusyResponse>
          <ResponseMessage ResponseClass="Success">
            <ResponseCode>NoError</ResponseCode>
          </ResponseMessage>
          <FreeBusyView>
            <FreeBusyViewType xmlns="{T}">DetailedMerged</FreeBusyViewType>
            <CalendarEventArray xmlns="{T}">{''.join(_event(e) for e in events)}
            </CalendarEventArray>
            <WorkingHours xmlns="{T}">
              <TimeZone>
                <Bias>-60</Bias>
                <StandardTime><Bias>0</Bias><Time>03:00:00</Time><DayOrder>5</DayOrder><Month>10</Month><DayOfWeek>Sunday</DayOfWeek></StandardTime>
                <DaylightTime><Bias>-60</Bias><Time>02:00:00</Time><DayOrder>5</DayOrder><Month>3</Month><DayOfWeek>Sunday</DayOfWeek></DaylightTime>
              </TimeZone>
              <WorkingPeriodArray>
                <WorkingPeriod>
                  <DayOfWeek>Monday Tuesday Wednesday Thursday Friday</DayOfWeek>
                  <StartTimeInMinutes>480</StartTimeInMinutes>
                  <EndTimeInMinutes>930</EndTimeInMinutes>
                </WorkingPeriod>
              </WorkingPeriodArray>
            </WorkingHours>
          </FreeBusyView>
        </FreeBusyResponse>"""


class EwsHandler(QuietHandler):
    def do_POST(self) -> None:
        state: EwsState = self.server.state  # type: ignore[attr-defined]
        raw = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        body = etree.fromstring(raw).find(f"{{{SOAP}}}Body")
        request = body[0] if body is not None and len(body) else None
        op = etree.QName(request).localname if request is not None else "?"
        with state.lock:
            state.requests.append(op)
        if state.delay:
            time.sleep(state.delay)
        if op == "GetServerTimeZonesRequest" or op == "GetServerTimeZones":
            xml = (FIXTURES / "getservertimezones_response_w_europe_exchangelib.xml").read_bytes()
            self.reply(200, xml, "text/xml; charset=utf-8")
            return
        if op != "GetUserAvailabilityRequest":
            self.reply(500, FAULT.encode(), "text/xml; charset=utf-8")
            return
        if state.fault:
            self.reply(500, FAULT.encode(), "text/xml; charset=utf-8")
            return
        if state.raw_availability is not None:
            self.reply(200, state.raw_availability, "text/xml; charset=utf-8")
            return
        window = request.find(f".//{{{T}}}TimeWindow")
        lo = datetime.fromisoformat(window.findtext(f"{{{T}}}StartTime"))
        hi = datetime.fromisoformat(window.findtext(f"{{{T}}}EndTime"))
        lo, hi = (d if d.tzinfo else d.replace(tzinfo=OSLO) for d in (lo, hi))
        boxes = [a.text or "" for a in request.iter(f"{{{T}}}Address")]
        with state.lock:
            state.batch_sizes.append(len(boxes))
        parts = []
        for box in boxes:
            events = state.calendars.get(box.lower())
            if events is None:
                parts.append(NOT_FOUND)
            else:
                parts.append(_found([e for e in events if e.end > lo and e.start < hi]))
        xml = (HEAD + f'\n    <GetUserAvailabilityResponse xmlns="{M}">\n      '
               "<FreeBusyResponseArray>" + "".join(parts) + "\n      </FreeBusyResponseArray>\n"
               "    </GetUserAvailabilityResponse>" + TAIL)
        self.reply(200, xml.encode(), "text/xml; charset=utf-8")
