"""The member register: CSV parsing (docs: the member CSV), the import transaction, lookups."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field

from sqlalchemy import delete, insert, update
from sqlmodel import Session, col, select

from identity import fnr, phone
from identity.digits import FOREIGN_DIGITS, has_foreign_digits, is_ascii_digits
from identity.models import Member, MemberPhone
from identity.pii import PiiHasher

COLUMNS = ("membership_number", "name", "national_id", "birth_date", "phone", "email",
           "address", "postal_code", "city", "returned_mail", "branch", "status")
REQUIRED = ("membership_number", "name")
TRUE_WORDS = {"true", "yes", "ja", "1", "y", "j"}
FALSE_WORDS = {"false", "no", "nei", "0", "n", ""}


class RegisterFileError(ValueError):
    """The file cannot be read as a member register at all (encoding, header)."""


@dataclass
class MemberRecord:
    """One valid row, ready to store: the national ID is already hashed and masked."""

    line: int
    membership_number: str
    name: str
    birth_date: dt.date | None
    national_id_hash: str | None
    national_id_masked: str | None
    needs_correction: bool
    national_id_possible_placeholder: bool
    phones: list[str]
    email: str | None
    address: str | None
    postal_code: str | None
    city: str | None
    returned_mail: bool
    branch: str | None
    status: str | None


@dataclass
class Rejection:
    """A row that was not imported, by line, with a reason that never echoes a national ID."""

    line: int
    reason: str


@dataclass
class ParseResult:
    """Every row of the file, sorted into valid records and rejections."""

    records: list[MemberRecord] = field(default_factory=list)
    rejections: list[Rejection] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def _delimiter(header_line: str) -> str:
    # Norwegian Excel writes semicolons; the header tells which one the file uses.
    return ";" if header_line.count(";") > header_line.count(",") else ","


def _opt(row: dict[str, str], key: str) -> str | None:
    value = (row.get(key) or "").strip()
    return value or None


def parse_row(row: dict[str, str], *, line: int, hasher: PiiHasher, today: dt.date,
              allow_test_ids: bool,
              placeholder_suffixes: Collection[str] = fnr.PLACEHOLDER_PERSONNUMMER,
              ) -> MemberRecord | Rejection:
    """Validate one row (pure apart from the keyed hash)."""
    number = (row.get("membership_number") or "").strip()
    if not number:
        return Rejection(line, "membership_number is missing")
    if not is_ascii_digits(number) or len(number) > 32:
        return Rejection(line, "membership_number must be digits 0-9 (at most 32)")
    for key in ("national_id", "phone", "postal_code"):
        if has_foreign_digits(row.get(key) or ""):
            return Rejection(line, f"{key}: {FOREIGN_DIGITS}")
    name = " ".join((row.get("name") or "").split())
    if not name:
        return Rejection(line, "name is missing")
    birth: dt.date | None = None
    raw_birth = _opt(row, "birth_date")
    if raw_birth:
        try:
            birth = dt.date.fromisoformat(raw_birth)
        except ValueError:
            return Rejection(line, "birth_date is not a date in the form YYYY-MM-DD")
        if birth > today:
            return Rejection(line, "birth_date is in the future")
    phones: list[str] = []
    for i, raw in enumerate((row.get("phone") or "").split("|"), start=1):
        if not raw.strip():
            continue
        e164 = phone.normalise(raw)
        if e164 is None:
            # Say which of the numbers, not the number itself (personal data).
            return Rejection(line, f"phone number {i} is not a valid phone number")
        if e164 not in phones:
            phones.append(e164)
    email = _opt(row, "email")
    if email and ("@" not in email or " " in email):
        return Rejection(line, "email is not an e-mail address")
    flag = (row.get("returned_mail") or "").strip().lower()
    if flag not in TRUE_WORDS | FALSE_WORDS:
        return Rejection(line, "returned_mail must be true/false, yes/no, ja/nei or 1/0")
    id_hash = id_mask = None
    needs_correction = True  # no usable national ID until one is checked below
    possible_placeholder = False
    raw_id = _opt(row, "national_id")
    if raw_id:
        check = fnr.classify(raw_id, today=today, placeholder_suffixes=placeholder_suffixes)
        id_mask = fnr.mask(raw_id)
        if check.acceptable(allow_test_ids=allow_test_ids):
            id_hash = hasher.hash_id(raw_id)
            needs_correction = False
            possible_placeholder = check.possible_placeholder
            if birth is None:
                birth = check.birth_date
    return MemberRecord(
        line=line, membership_number=number, name=name, birth_date=birth,
        national_id_hash=id_hash, national_id_masked=id_mask,
        needs_correction=needs_correction,
        national_id_possible_placeholder=possible_placeholder, phones=phones, email=email,
        address=_opt(row, "address"), postal_code=_opt(row, "postal_code"),
        city=_opt(row, "city"), returned_mail=flag in TRUE_WORDS,
        branch=_opt(row, "branch"), status=_opt(row, "status"),
    )


def parse_csv(data: bytes, *, hasher: PiiHasher, today: dt.date, allow_test_ids: bool,
              placeholder_suffixes: Collection[str] = fnr.PLACEHOLDER_PERSONNUMMER,
              ) -> ParseResult:
    """Parse a whole register file; duplicates of a membership number are rejected."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise RegisterFileError("the file is not UTF-8") from exc
    first = text.split("\n", 1)[0]
    if not first.strip():
        raise RegisterFileError("the file has no header row")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(first))
    header = [h.strip().lower() for h in next(reader)]
    result = ParseResult()
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise RegisterFileError("the header lacks the required column(s): " + ", ".join(missing))
    unknown = [h for h in header if h not in COLUMNS]
    if unknown:
        result.warnings.append("ignored unknown column(s): " + ", ".join(unknown))
    seen: dict[str, int] = {}
    line = reader.line_num
    for cells in reader:
        start, line = line + 1, reader.line_num
        if not any(c.strip() for c in cells):
            continue
        if len(cells) > len(header):
            result.rejections.append(Rejection(start, "more fields than the header has"))
            continue
        row = dict(zip(header, cells, strict=False))
        parsed = parse_row(row, line=start, hasher=hasher, today=today,
                           allow_test_ids=allow_test_ids,
                           placeholder_suffixes=placeholder_suffixes)
        if isinstance(parsed, MemberRecord):
            if parsed.membership_number in seen:
                first_line = seen[parsed.membership_number]
                result.rejections.append(Rejection(
                    start, f"duplicate membership_number (first on line {first_line})"))
                continue
            seen[parsed.membership_number] = start
            result.records.append(parsed)
        else:
            result.rejections.append(parsed)
    return result


FIELDS = ("name", "birth_date", "national_id_hash", "national_id_masked", "needs_correction",
          "national_id_possible_placeholder", "email", "address", "postal_code", "city",
          "returned_mail", "branch", "status")
CHUNK = 500  # ids per IN list, well below SQLite's bound-parameter limit


def store(session: Session, records: Iterable[MemberRecord], *, now: dt.datetime
          ) -> tuple[int, int]:
    """Insert or update members by membership number (others stay); returns (created, updated)."""
    records = list(records)
    # Bulk statements rather than one ORM object per row: a 10,000-member register is
    # imported in seconds (the measured time is in the README).
    ids = dict(session.exec(select(Member.membership_number, Member.id)).all())
    values = [{f: getattr(r, f) for f in FIELDS} | {"updated_at": now} for r in records]
    new = [v | {"membership_number": r.membership_number}
           for r, v in zip(records, values, strict=True) if r.membership_number not in ids]
    old = [v | {"id": ids[r.membership_number]}
           for r, v in zip(records, values, strict=True) if r.membership_number in ids]
    if new:
        session.exec(insert(Member), params=new)
    if old:
        session.exec(update(Member), params=old)
        old_ids = [v["id"] for v in old]
        for i in range(0, len(old_ids), CHUNK):
            session.exec(delete(MemberPhone).where(
                col(MemberPhone.member_id).in_(old_ids[i:i + CHUNK])))
    if new:
        ids = dict(session.exec(select(Member.membership_number, Member.id)).all())
    phones = [{"member_id": ids[r.membership_number], "e164": p, "position": i}
              for r in records for i, p in enumerate(r.phones)]
    if phones:
        session.exec(insert(MemberPhone), params=phones)
    return len(new), len(old)


def flagged_lines(result: ParseResult) -> list[str]:
    """One report line per imported row whose national ID needs a look, by line number only
    (the number itself is personal data and is never echoed)."""
    out = []
    for r in result.records:
        if r.needs_correction:
            out.append(f"line {r.line}: imported with the needs-correction flag "
                       "(national ID missing, a placeholder or invalid)")
        elif r.national_id_possible_placeholder:
            out.append(f"line {r.line}: imported; the national ID may be a placeholder: "
                       "confirm it with the member")
    return out


def candidates_by_phone(session: Session, from_number: str | None) -> list[Member]:
    """Members whose registered phone is the calling number: 0, 1 or several."""
    e164 = phone.normalise(from_number)
    if e164 is None:
        return []
    stmt = (
        select(Member)
        .join(MemberPhone, col(MemberPhone.member_id) == col(Member.id))
        .where(MemberPhone.e164 == e164)
        .order_by(col(Member.membership_number))
    )
    return list(session.exec(stmt).all())


def by_membership_number(session: Session, number: str) -> Member | None:
    """The member with this membership number, or None."""
    number = number.strip()
    return session.exec(select(Member).where(Member.membership_number == number)).first()


def phones_of(session: Session, member_id: int) -> list[str]:
    """A member's registered numbers, first one first."""
    stmt = (select(MemberPhone.e164).where(MemberPhone.member_id == member_id)
            .order_by(col(MemberPhone.position)))
    return list(session.exec(stmt).all())
