"""The reference in docs/ keeps up with the code: every org-file key, and every link, resolves.

docs/org-file.md has one section per mapping of the file; its heading names the mapping's path
in backticks (`organisation`, `agents[]`, `agents[].calendar`, …; the top level is the section
"Top-level keys"). Every key the loader accepts must appear in backticks in its own section,
so a key added to switchboard/orgschema.py without a word in the docs fails here.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, get_args, get_origin

import pytest
from pydantic import BaseModel

from switchboard.orgfile import parse_org_text
from switchboard.orgschema import OrgFile
from switchboard.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
ORG_DOC = DOCS / "org-file.md"
TOP = "Top-level keys"
HEADING = re.compile(r"^(#{1,6})\s+(.*)$", re.MULTILINE)
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")


def _models(tp: Any, suffix: str = "") -> Iterator[tuple[type[BaseModel], str]]:
    """The models reachable from a field's annotation, with the path suffix to reach them."""
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        yield tp, suffix
        return
    origin = get_origin(tp)
    args = get_args(tp)
    if origin in (list, tuple, set, frozenset) or (
            isinstance(origin, type) and issubclass(origin, Sequence)
            and not issubclass(origin, str)):
        for arg in args:
            yield from _models(arg, suffix + "[]")
    elif origin is dict or (isinstance(origin, type) and issubclass(origin, Mapping)):
        if len(args) == 2:
            yield from _models(args[1], suffix + ".*")
    else:  # Union, Optional, Annotated, Literal: the same place in the file
        for arg in args:
            yield from _models(arg, suffix)


def org_sections() -> dict[str, set[str]]:
    """Every mapping of the org file by its path ("" for the top level), with its keys."""
    out: dict[str, set[str]] = {}

    def visit(model: type[BaseModel], path: str) -> None:
        keys = out.setdefault(path, set())
        for name, info in model.model_fields.items():
            key = info.alias or name
            keys.add(key)
            child = f"{path}.{key}" if path else key
            for sub, suffix in _models(info.annotation, ""):
                visit(sub, child + suffix)

    visit(OrgFile, "")
    return out


def doc_sections(text: str) -> dict[str, str]:
    """Section text by the backticked path in its heading (TOP for the top level)."""
    heads = list(HEADING.finditer(text))
    out: dict[str, str] = {}
    for i, head in enumerate(heads):
        body = text[head.end():heads[i + 1].start() if i + 1 < len(heads) else len(text)]
        title = head.group(2).strip()
        if title == TOP:
            out[""] = body
        for path in re.findall(r"`([^`]+)`", title):
            out[path] = out.get(path, "") + body
    return out


def undocumented(text: str) -> list[str]:
    """Problems with the org-file reference: missing sections and keys."""
    sections = doc_sections(text)
    problems = []
    for path, keys in sorted(org_sections().items()):
        where = f"`{path}`" if path else f'"{TOP}"'
        body = sections.get(path)
        if body is None:
            problems.append(f"no section whose heading names {where}")
            continue
        for key in sorted(keys):
            if f"`{key}`" not in body:
                problems.append(f"key `{key}` is not documented in the section {where}")
    return problems


def test_every_org_file_key_is_documented() -> None:
    """Each key OrgFile accepts, at every level, appears in backticks in its own section."""
    problems = undocumented(ORG_DOC.read_text(encoding="utf-8"))
    assert not problems, "docs/org-file.md is behind switchboard/orgschema.py:\n" + "\n".join(
        problems)


def test_a_missing_key_is_caught() -> None:
    """The check above can fail: drop one documented key and it is reported."""
    text = ORG_DOC.read_text(encoding="utf-8")
    body = doc_sections(text)["loops[]"]
    line = next(ln for ln in body.splitlines() if "`ring_timeout`" in ln)
    problems = undocumented(text.replace(line, ""))
    assert "key `ring_timeout` is not documented in the section `loops[]`" in problems


def test_the_reference_example_is_a_valid_org_file(tmp_path: Path) -> None:
    """The full example in docs/org-file.md is accepted by the loader as written."""
    text = ORG_DOC.read_text(encoding="utf-8")
    blocks = re.findall(r"```yaml\n(.*?)```", text, re.DOTALL)
    full = [b for b in blocks if b.startswith("organisation:")]
    assert full, "docs/org-file.md has no complete example (a yaml block starting organisation:)"
    example = max(full, key=len)
    org = parse_org_text(example, str(tmp_path / "org.yaml"), default_timezone="Europe/Oslo")
    assert org.organisation.name


def _links(path: Path) -> list[str]:
    text = path.read_text(encoding="utf-8")
    text = re.sub(r"```.*?```", "", text, flags=re.DOTALL)  # code blocks hold no links
    return [t for t in LINK.findall(text)
            if not re.match(r"^[a-z][a-z0-9+.-]*:", t) and not t.startswith("#")]


MARKDOWN = [ROOT / "README.md", *sorted(DOCS.glob("*.md"))]


def _slugs(page: Path) -> set[str]:
    """The anchors GitHub gives the page's headings (lower case, punctuation dropped)."""
    text = re.sub(r"```.*?```", "", page.read_text(encoding="utf-8"), flags=re.DOTALL)
    return {re.sub(r"[^\w\- ]", "", h.group(2).strip().lower()).replace(" ", "-")
            for h in HEADING.finditer(text)}


@pytest.mark.parametrize("page", MARKDOWN, ids=lambda p: str(p.relative_to(ROOT)))
def test_links_resolve_to_files(page: Path) -> None:
    """Every relative link in the README and docs/ points at a file, and at a heading in it."""
    broken = []
    for target in _links(page) + [f"#{a}" for a in re.findall(
            r"\]\(#([^)\s]+)\)", page.read_text(encoding="utf-8"))]:
        name, _, anchor = target.partition("#")
        path = (page.parent / name) if name else page
        if not path.exists():
            broken.append(target)
        elif anchor and path.suffix == ".md" and anchor not in _slugs(path):
            broken.append(target)
    assert not broken, f"{page.relative_to(ROOT)} links to missing files or headings: {broken}"


def test_the_readme_links_every_docs_page() -> None:
    """A reader starting at the README can reach every page of docs/."""
    linked = {(ROOT / t.split("#", 1)[0]).resolve() for t in _links(ROOT / "README.md")}
    missing = [p.name for p in DOCS.glob("*.md") if p.resolve() not in linked]
    assert not missing, f"README.md does not link: {missing}"


SOURCES = ("switchboard", "ivr", "routing", "calendar_sync", "identity", "tickets", "console",
           "migrations", "bench", "scripts", "tests", "docs", "examples")
TEXT = {".py", ".md", ".html", ".yaml", ".yml", ".toml", ".ini", ".txt", ".js", ".css", ""}


def test_no_reference_outside_the_repository() -> None:
    """The repository stands alone: no pointer to a contract file a user's clone lacks.

    Code comments, docstrings, --help texts and pages cite docs/ instead; only the test
    fixtures' source notes may name where their data came from.
    """
    bad = re.compile(r"\.\./shared|CONTRACT(\.md| §)")
    files = [ROOT / "README.md", ROOT / "Dockerfile", ROOT / "pyproject.toml"]
    for top in SOURCES:
        files += [p for p in (ROOT / top).rglob("*") if p.is_file() and p.suffix in TEXT
                  and "__pycache__" not in p.parts and "fixtures" not in p.parts]
    found = [str(p.relative_to(ROOT)) for p in files
             if p.exists() and bad.search(p.read_text("utf-8", errors="replace"))]
    assert not found, f"these files point outside the repository: {found}"


def test_every_api_route_is_in_the_http_reference(settings: Settings, engine: Any) -> None:
    """Each path the running app lists in its OpenAPI appears in docs/http-api.md."""
    from switchboard.app import create_app

    paths = create_app(settings, engine).openapi()["paths"]
    text = (DOCS / "http-api.md").read_text(encoding="utf-8")
    missing = [p for p in paths if f" {p}`" not in text]
    assert not missing, f"docs/http-api.md does not describe: {missing}"


def test_every_setting_is_in_the_cli_reference() -> None:
    """Each environment variable Settings reads is described in docs/cli.md."""
    text = (DOCS / "cli.md").read_text(encoding="utf-8")
    names = []
    for info in Settings.model_fields.values():
        alias = info.validation_alias
        choices = getattr(alias, "choices", None)
        names += [str(c) for c in choices] if choices else [str(alias)]
    missing = [n for n in names if f"`{n}`" not in text]
    assert not missing, f"docs/cli.md does not describe the settings: {missing}"


def test_every_cli_verb_has_its_section() -> None:
    """Each verb `switchboard --help` lists has a section in docs/cli.md, options included."""
    import typer

    from switchboard.cli import app

    text = (DOCS / "cli.md").read_text(encoding="utf-8")
    sections = doc_sections(text)
    missing: list[str] = []

    def walk(cmd: Any, path: str) -> None:
        if getattr(cmd, "commands", None):  # a group (typer may bring its own click)
            for name, sub in cmd.commands.items():
                walk(sub, f"{path} {name}".strip())
            return
        body = sections.get(path)
        if body is None:
            missing.append(f"no section `{path}`")
            return
        for param in cmd.params:
            for opt in getattr(param, "opts", []):
                if opt.startswith("--") and opt != "--help" and f"`{opt}`" not in body:
                    missing.append(f"`{path}` does not describe `{opt}`")

    walk(typer.main.get_command(app), "")
    assert not missing, "docs/cli.md is behind the CLI:\n" + "\n".join(missing)


def test_code_cites_docs_pages_that_exist() -> None:
    """A comment or docstring that sends the reader to docs/… names a page that is there."""
    cited = re.compile(r"docs/([a-z0-9_-]+\.md)")
    missing = set()
    for top in SOURCES:
        for p in (ROOT / top).rglob("*"):
            if p.is_file() and p.suffix in {".py", ".html", ""} and "__pycache__" not in p.parts \
                    and "fixtures" not in p.parts:
                for name in cited.findall(p.read_text("utf-8", errors="replace")):
                    if not (DOCS / name).exists():
                        missing.add(f"{p.relative_to(ROOT)}: docs/{name}")
    assert not missing, "cited docs pages that do not exist:\n" + "\n".join(sorted(missing))
