"""Read an organisation file: YAML with line numbers, field validation, then cross-checks.

Every refusal is an OrgFileError whose message names the field path and its line, e.g.
`agents[2].phone (line 41): "+47 900" is not an E.164 phone number`.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from switchboard.orgschema import VOICEMAIL, OrgFile, keys_at

__all__ = ["OrgFile", "OrgFileError", "load_org_file", "parse_org_text"]

Loc = tuple[str | int, ...]
MAX_ERRORS = 20
_BOOL = "tag:yaml.org,2002:bool"
_INT = "tag:yaml.org,2002:int"
_STR = "tag:yaml.org,2002:str"
_TIMESTAMP = "tag:yaml.org,2002:timestamp"


class OrgFileError(Exception):
    """The file was refused; the message says which field, on which line, and why."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class _Loader(yaml.SafeLoader):
    """PyYAML's safe loader with YAML 1.2's narrower booleans and integers.

    YAML 1.1 reads `holidays: NO` as false and `+4722000000` or `0800` as numbers, which are
    exactly the values this file is full of. Only true/false are booleans here, and only plain
    decimal integers without a sign or leading zero are integers. Dates stay text too (as in
    YAML 1.2), so 2026-12-32 is refused by the schema with its line rather than crashing here.
    """


_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag not in (_BOOL, _INT, _TIMESTAMP)]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(
    _BOOL, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)
_Loader.add_implicit_resolver(_INT, re.compile(r"^-?(?:0|[1-9][0-9]*)$"), list("-0123456789"))


def _line(node: yaml.Node) -> int:
    return node.start_mark.line + 1


def _walk(node: yaml.Node, loc: Loc, lines: dict[Loc, int], problems: list[tuple[Loc, str]]
          ) -> None:
    """Record each path's line, and refuse duplicate keys (loaders silently keep the last)."""
    if isinstance(node, yaml.MappingNode):
        seen: dict[str, int] = {}
        for key_node, value_node in node.value:
            key = str(key_node.value)
            here = (*loc, key)
            if key in seen:
                what = "digit" if loc == ("menu",) else "key"
                problems.append(
                    (here, f'duplicate {what} "{key}" (first on line {seen[key]})')
                )
                lines.setdefault(here + ("#dup",), _line(key_node))
                continue
            seen[key] = _line(key_node)
            lines[here] = _line(key_node)
            _walk(value_node, here, lines, problems)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            lines[(*loc, i)] = _line(item)
            _walk(item, (*loc, i), lines, problems)


def _compose(text: str) -> tuple[Any, dict[Loc, int], list[tuple[Loc, str]]]:
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None, {}, []
        lines: dict[Loc, int] = {(): _line(node)}
        problems: list[tuple[Loc, str]] = []
        _walk(node, (), lines, problems)
        if isinstance(node, yaml.MappingNode):
            for key_node, value_node in node.value:
                if key_node.value == "menu" and isinstance(value_node, yaml.MappingNode):
                    # Menu keys are keys to press, never numbers: "1", "01" and "#" as written.
                    for digit_node, _ in value_node.value:
                        if isinstance(digit_node, yaml.ScalarNode):
                            digit_node.tag = _STR
        return loader.construct_document(node), lines, problems
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        problem = exc.problem or exc.context or "cannot be read"
        raise OrgFileError(f"bad YAML{where}: {problem}") from None
    except yaml.YAMLError as exc:
        raise OrgFileError(f"bad YAML: {exc}") from None
    finally:
        loader.dispose()


def _path(loc: Loc) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", part):
            out += f".{part}" if out else part
        else:
            out += f".{json.dumps(part, ensure_ascii=False)}" if out else json.dumps(part)
    return out or "(file)"


def _locate(loc: Iterable[Any], lines: dict[Loc, int], missing: bool) -> tuple[Loc, int | None]:
    """Map a validator's loc onto the YAML tree; parts not in the file (union tags) are skipped."""
    parts = [p for p in loc if p != "[key]"]
    found: Loc = ()
    for part in parts:
        key: str | int = part if isinstance(part, int) else str(part)
        if (*found, key) in lines:
            found = (*found, key)
    if missing and parts and not isinstance(parts[-1], int):
        # A missing key has no line of its own: name it, with its parent's line (if any).
        return (*found, str(parts[-1])), lines.get(found) if found else None
    return found, lines.get(found)


def _message(err: Any) -> str:
    kind, msg = err["type"], err["msg"]
    if kind == "missing":
        return "is required"
    if kind == "extra_forbidden":
        key = str(err["loc"][-1])
        near = difflib.get_close_matches(key, keys_at(tuple(err["loc"][:-1])), n=1)
        hint = f' (did you mean "{near[0]}"?)' if near else ""
        return f'unknown key "{key}"{hint}'
    return msg.removeprefix("Value error, ")


def _format(problems: list[tuple[Loc, int | None, str]]) -> str:
    problems = sorted(problems, key=lambda p: (p[1] or 0))
    lines = [
        f"{_path(loc)}{f' (line {line})' if line else ''}: {msg}"
        for loc, line, msg in problems[:MAX_ERRORS]
    ]
    if len(problems) > MAX_ERRORS:
        lines.append(f"… and {len(problems) - MAX_ERRORS} more")
    return "\n".join(lines)


def _cycle_from(start: str, overflow: dict[str, str]) -> list[str] | None:
    chain = [start]
    while True:
        nxt = overflow.get(chain[-1])
        if nxt is None:
            return None
        if nxt in chain:
            return [*chain[chain.index(nxt):], nxt]
        chain.append(nxt)


def _duplicates(ids: list[str]) -> Iterator[tuple[int, int]]:
    """(index, index of first) for every repeat."""
    first: dict[str, int] = {}
    for i, value in enumerate(ids):
        if value in first:
            yield i, first[value]
        else:
            first[value] = i


def cross_check(org: OrgFile) -> list[tuple[Loc, str]]:
    """The checks that need the whole file: references, duplicates and overflow cycles."""
    out: list[tuple[Loc, str]] = []
    agents = [a.id for a in org.agents]
    loops = [lp.id for lp in org.loops]
    for i, j in _duplicates(agents):
        out.append((("agents", i, "id"), f'duplicate agent id "{agents[i]}" (also agents[{j}])'))
    for i, j in _duplicates(loops):
        out.append((("loops", i, "id"), f'duplicate loop id "{loops[i]}" (also loops[{j}])'))
    numbers = [n.number for n in org.numbers]
    for i, j in _duplicates(numbers):
        out.append((("numbers", i, "number"), f'duplicate number (also numbers[{j}])'))
    known_agents, known_loops = set(agents), set(loops)
    for i, a in enumerate(org.agents):
        if a.cover is not None and (a.cover not in known_agents or a.cover == a.id):
            out.append((("agents", i, "cover"), f'agent "{a.cover}" does not exist'
                        if a.cover != a.id else "an agent cannot be their own cover"))
    for i, n in enumerate(org.numbers):
        if n.agent is not None and n.agent not in known_agents:
            out.append((("numbers", i, "agent"), f'agent "{n.agent}" does not exist'))
    for digit, target in org.menu.items():
        if target not in known_loops:
            out.append((("menu", digit), f'loop "{target}" does not exist'))
    if org.menu_default not in known_loops and org.menu_default not in org.menu.values():
        out.append((("menu_default",), f'loop "{org.menu_default}" does not exist'))
    if org.english is not None:
        if org.english.loop not in known_loops:
            out.append((("english", "loop"), f'loop "{org.english.loop}" does not exist'))
        if org.english.digit in org.menu:
            out.append((("english", "digit"),
                        f'digit "{org.english.digit}" is already a menu digit'))
    for i, loop in enumerate(org.loops):
        for j, k in _duplicates(loop.members):
            out.append((("loops", i, "members", j),
                        f'agent "{loop.members[j]}" is listed twice (also members[{k}])'))
        for j, member in enumerate(loop.members):
            if member not in known_agents:
                out.append((("loops", i, "members", j), f'agent "{member}" does not exist'))
        if loop.overflow != VOICEMAIL and loop.overflow not in known_loops:
            out.append((("loops", i, "overflow"),
                        f'loop "{loop.overflow}" does not exist (a loop id, or "voicemail")'))
    departments = [d.id for d in org.departments]
    for i, j in _duplicates(departments):
        out.append((("departments", i, "id"),
                    f'duplicate department id "{departments[i]}" (also departments[{j}])'))
    for i, dept in enumerate(org.departments):
        for j, member in enumerate(dept.members):
            if member not in known_agents:
                out.append((("departments", i, "members", j), f'agent "{member}" does not exist'))
    for i, loop in enumerate(org.loops):
        if loop.department is not None and loop.department not in departments:
            out.append((("loops", i, "department"),
                        f'department "{loop.department}" does not exist'))
    overflow = {lp.id: lp.overflow for lp in org.loops if lp.overflow != VOICEMAIL}
    reported: set[frozenset[str]] = set()
    for i, loop in enumerate(org.loops):
        cycle = _cycle_from(loop.id, overflow)
        if cycle and cycle[0] == loop.id and frozenset(cycle) not in reported:
            reported.add(frozenset(cycle))
            out.append((("loops", i, "overflow"),
                        "overflow cycle: " + " -> ".join(cycle) + " (callers would never "
                        'reach voicemail; end the chain with "voicemail")'))
    return out


def parse_org_text(text: str, source_name: str = "<org file>", *,
                   base_dir: Path | None = None, default_timezone: str | None = None) -> OrgFile:
    """Parse and validate an org file's text; raise OrgFileError naming field and line."""
    data, lines, problems = _compose(text)
    if problems:
        raise OrgFileError(_format([(loc, lines.get((*loc, "#dup")), m) for loc, m in problems]))
    if not isinstance(data, dict):
        raise OrgFileError(
            f"{source_name}: the file must be a mapping with organisation, numbers, menu, "
            "agents and loops"
        )
    if default_timezone is None:
        from switchboard.settings import Settings

        default_timezone = Settings().timezone  # type: ignore[call-arg]
    context = {
        "base_dir": base_dir or Path(source_name).resolve().parent,
        "default_timezone": default_timezone,
    }
    try:
        org = OrgFile.model_validate(data, context=context)
    except ValidationError as exc:
        found = []
        for err in exc.errors():
            loc, line = _locate(err["loc"], lines, err["type"] == "missing")
            found.append((loc, line, _message(err)))
        raise OrgFileError(_format(found)) from None
    checks = cross_check(org)
    if checks:
        raise OrgFileError(_format([(loc, lines.get(loc), msg) for loc, msg in checks]))
    return org


def load_org_file(path: str | Path, *, default_timezone: str | None = None) -> OrgFile:
    """Read and validate the org file at path (relative calendar paths resolve against it)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise OrgFileError(f"cannot read {path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise OrgFileError(f"cannot read {path}: it is not UTF-8 text") from None
    return parse_org_text(text, str(path), base_dir=path.resolve().parent,
                          default_timezone=default_timezone)
