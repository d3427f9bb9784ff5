"""pyproject.toml declares its licence the current way (PEP 639), so builds do not warn."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

PYPROJECT = Path(__file__).resolve().parents[2] / "pyproject.toml"


def test_the_licence_is_an_spdx_expression_with_a_setuptools_that_reads_it() -> None:
    data = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))
    project = data["project"]
    # A table ({text = …} or {file = …}) is deprecated: setuptools warns on every install.
    assert project["license"] == "AGPL-3.0-or-later"
    # PEP 639: with an expression, no "License ::" classifier may be given as well.
    assert not [c for c in project.get("classifiers", []) if c.startswith("License ::")]
    requires = data["build-system"]["requires"]
    setuptools = next(r for r in requires if r.startswith("setuptools"))
    found = re.fullmatch(r"setuptools>=(\d+)(\.\d+)*", setuptools.replace(" ", ""))
    assert found and int(found.group(1)) >= 77  # the first setuptools that reads PEP 639
    for pattern in project.get("license-files", []):
        assert list(PYPROJECT.parent.glob(pattern)), f"license-files {pattern!r} matches nothing"
