"""The user documentation stands alone and says what the code does: it cites nothing a
reader of the repository cannot open, its event catalogue names every event type with
the payload fields that are always present, and its status table every status."""

from __future__ import annotations

import re

import pytest
from support import REPO

from gateway.domain import status
from gateway.events import PAYLOAD_SCHEMAS

DOCS = sorted((REPO / "docs").glob("**/*.md")) + [REPO / "README.md", REPO / "routes.yaml"]
ARCHITECTURE = REPO / "docs" / "architecture.md"
# The design notes and issue threads live outside the repository.
UNREADABLE = re.compile(r"DESIGN\s*§|DESIGN\.md|\bissue\s*#\d+|/work/shared|\bthe issue\b", re.IGNORECASE)


@pytest.mark.parametrize("path", DOCS, ids=lambda p: p.name)
def test_no_citation_a_reader_cannot_follow(path):
    cited = [line.strip() for line in path.read_text().splitlines() if UNREADABLE.search(line)]
    assert cited == []


@pytest.mark.parametrize("path", DOCS, ids=lambda p: p.name)
def test_relative_links_resolve(path):
    for target in re.findall(r"\]\(([^)#:]+)(?:#[^)]*)?\)", path.read_text()):
        assert (path.parent / target).exists(), f"{path.name} links to missing {target}"


def _catalogue_rows() -> dict[str, str]:
    rows = {}
    for line in ARCHITECTURE.read_text().splitlines():
        m = re.match(r"\| `([a-z_]+\.[a-z_]+)` \|", line)
        if m:
            rows[m.group(1)] = line
    return rows


@pytest.mark.parametrize("event_type", sorted(PAYLOAD_SCHEMAS))
def test_the_catalogue_names_each_event_type_and_its_required_fields(event_type):
    rows = _catalogue_rows()
    assert event_type in rows, f"{event_type} is missing from docs/architecture.md"
    row = rows[event_type]
    same_as = re.search(r"\| as `([a-z_.]+)` \|", row)
    if same_as:
        assert PAYLOAD_SCHEMAS[same_as.group(1)] is PAYLOAD_SCHEMAS[event_type]
        row = rows[same_as.group(1)]
    required = [name for name, f in PAYLOAD_SCHEMAS[event_type]().fields.items() if f.required]
    missing = [name for name in required if f"`{name}`" not in row and f"`{name}[]`" not in row]
    assert missing == [], f"{event_type}: payload fields missing from the catalogue row"


def test_the_catalogue_has_no_event_type_the_code_does_not_know():
    assert set(_catalogue_rows()) <= set(PAYLOAD_SCHEMAS)


def test_every_status_is_explained():
    text = ARCHITECTURE.read_text()
    for enum in (status.DocumentStatus, status.TransactionStatus, status.AckStatus, status.DeliveryStatus):
        for member in enum:
            assert f"`{member.value}`" in text, f"{enum.__name__}.{member.name}"
