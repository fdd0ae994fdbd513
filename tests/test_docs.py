"""The front door's links lead somewhere: every relative link of README.md, to a file and to a
heading in it. (mkdocs checks the pages under docs/ themselves: `mkdocs build --strict` in the
test command.)"""

from __future__ import annotations

import re

import pytest

from conftest import ROOT

LINK = re.compile(r"\]\(([^)\s]+)\)")


def anchors(markdown: str) -> set[str]:
    """The anchors mkdocs (and GitHub) make of a page's headings."""
    found = set()
    for heading in re.findall(r"(?m)^#{1,6} (.+)$", markdown):
        slug = re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")
        found.add(slug)
    return found


@pytest.mark.parametrize("link", sorted(set(LINK.findall((ROOT / "README.md").read_text()))))
def test_every_relative_link_of_the_readme_resolves(link: str) -> None:
    if re.match(r"[a-z]+:", link):
        return  # an address on the web: not this repository's to check
    path, _, anchor = link.partition("#")
    target = ROOT / path if path else ROOT / "README.md"
    assert target.exists(), f"README.md links to {path}, which does not exist"
    if anchor:
        assert anchor in anchors(target.read_text()), f"{target.name} has no heading #{anchor}"


def test_the_readme_keeps_to_a_front_door() -> None:
    """What autoseed does, how to install it, the one command, the variables, where the rest
    lives: the reference is under docs/."""
    readme = (ROOT / "README.md").read_text()
    assert readme.count("\n") < 200
    for heading in ("## Install", "## Using it", "### Variables", "## Set-up: two commands"):
        assert f"\n{heading}\n" in readme
    assert "pip install autoseed\n" not in readme.split("## Install")[0], "not published yet"


def test_every_docs_page_is_in_the_site() -> None:
    config = (ROOT / "docs" / "mkdocs.yml").read_text()
    pages = {path.name for path in (ROOT / "docs").glob("*.md")}
    assert pages == set(re.findall(r": (\S+\.md)$", config, re.MULTILINE)), pages


def test_ci_runs_exactly_the_readmes_test_command() -> None:
    readme = (ROOT / "README.md").read_text()
    command = (ROOT / ".ci" / "run").read_text().strip().splitlines()[-1]
    assert f"```\n{command}\n```" in readme
