"""The buyer's onboarding journey in a real browser (Debian's chromium, driven by
Playwright): a buyer creates a partner, uploads a map version for it, dry-runs it
against the partner's archived documents, sees the diff, activates it, and the next
document from that partner is translated with it. Screenshots of the onboarding pages
go to docs/."""

from __future__ import annotations

import shutil
import sys

import pytest
from sqlalchemy import select
from support import REPO, drain, sent_by

from gateway.intake.receive import receive
from gateway.roles import HttpService
from gateway.store.models import Document, EventRecord
from gateway.store.models_api import AuditEntry
from gateway.web.users import create_user

sys.path.insert(0, str(REPO / "tests" / "integration" / "console"))
sys.path.insert(0, str(REPO / "tests" / "integration" / "onboarding"))
from console_support import PASSWORD  # noqa: E402
from onboarding_support import DEMO_855_MAP, SAMPLE_855  # noqa: E402

CHROMIUM = shutil.which("chromium")
DOCS = REPO / "docs"
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (apt-get install chromium)")
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"]
# Globex's own 855 map: the demo partner's, with Globex's catalogue numbers
GLOBEX_855_MAP = DEMO_855_MAP.replace("ACME Supply (ISA ZZ/ACMESUPPLY)", "Globex (ISA ZZ/GLOBEXPARTS)")


@pytest.fixture
def site(rt):
    rt.settings = rt.settings.with_overrides(http_port=0, max_request_bytes=256 * 1024)
    http = HttpService(rt, demo_erp=False).start()
    yield f"http://127.0.0.1:{http.port}"
    http.stop()


@pytest.fixture
def browser():
    playwright = pytest.importorskip("playwright.sync_api")
    with playwright.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        yield b
        b.close()


def _shot(page, name: str) -> None:
    page.screenshot(path=str(DOCS / name), full_page=True)


def _from_globex(rt, control: str) -> str:
    data = sent_by(SAMPLE_855.read_bytes().replace(b"000000101", control.encode()), "GLOBEXPARTS")
    doc = receive(rt, data, channel="sftp", filename=f"globex-{control}.edi", partner_id="globex").document_id
    drain(rt)
    return doc


def _item_numbers(rt, document_id: str) -> list:
    with rt.session() as s:
        body = s.scalars(select(EventRecord).where(  # the 855's own event, not a superseding one
            EventRecord.document_id == document_id, EventRecord.type == "purchase_order.acknowledged")).one().body
    return [line.get("item_number") for line in body["payload"]["lines"]]


def test_a_buyer_onboards_a_partner_and_its_map_and_the_next_document_uses_it(rt, site, browser, tmp_path):
    create_user(rt, "bea", PASSWORD, "buyer")
    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    page.goto(f"{site}/signin")
    page.fill("#username", "bea")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{site}/")

    page.click("nav >> text=Partners")
    page.wait_for_url(f"{site}/partners")
    page.fill("#p-id", "globex")
    page.fill("#p-name", "Globex Parts")
    page.fill("#p-isa-id", "GLOBEXPARTS")
    page.fill("#p-group-ids", "GLOBEXPARTS")
    page.select_option("#p-ack", "997")
    page.fill("#p-as2-id", "GLOBEX-AS2")
    page.fill("#p-cxml", "NetworkId GLOBEX")
    page.fill("#p-reason", "new supplier for fasteners")
    _shot(page, "console-partners.png")
    page.click("#create")
    page.wait_for_url(f"{site}/partners/globex")
    assert "Partner globex created" in page.inner_text("main")

    # Globex starts sending with the base map; these are the archived documents to dry-run on.
    archived = [_from_globex(rt, "000000401"), _from_globex(rt, "000000402")]
    with rt.session() as s:
        assert [s.get(Document, d).status for d in archived] == ["accepted", "accepted"]
    assert _item_numbers(rt, archived[0])[0] is None  # the base map knows no Globex catalogue numbers

    map_file = tmp_path / "globex-855.yaml"
    map_file.write_text(GLOBEX_855_MAP)
    page.set_input_files("#map-file", str(map_file))
    page.fill("#map-reason", "Globex catalogue numbers to ours")
    page.click("#upload")
    page.wait_for_url(lambda url: "/partners/globex/maps/" in url)
    assert "Version 1 of x12-855-004010 stored" in page.inner_text("main")

    page.fill("#dry-run-documents", "10")
    page.click("#dry-run")
    page.wait_for_url(lambda url: "/partners/globex/dry-runs/dry_" in url)
    assert page.inner_text("#n-documents") == "2" and page.inner_text("#n-changed") == "2"
    assert page.inner_text("#n-newly_fails") == "0"
    first_diff = page.locator("table.diff").first
    assert "payload.lines[0].item_number" in first_diff.inner_text() and "ITEM-100" in first_diff.inner_text()
    _shot(page, "console-onboarding-dry-run.png")

    page.fill("#activate-reason", "checked against Globex's last two 855s")
    page.click("#activate")
    page.wait_for_url(f"{site}/partners/globex")
    assert "is active: new documents use it" in page.inner_text("main")
    assert page.locator("tr.active").inner_text().startswith("v1")
    _shot(page, "console-onboarding.png")

    fresh = _from_globex(rt, "000000403")  # the next upload
    assert _item_numbers(rt, fresh)[0] == "ITEM-100"
    with rt.session() as s:
        actions = [a.action for a in s.scalars(select(AuditEntry).where(AuditEntry.actor == "buyer:bea",
                                                                          AuditEntry.target == "partner:globex")
                                               .order_by(AuditEntry.id))]
    assert actions == ["partner.create", "map.upload", "map.dry_run", "map.activate"]
