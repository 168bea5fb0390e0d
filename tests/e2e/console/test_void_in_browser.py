"""Support voids a delivered 855 from its page in a real browser (Debian's chromium,
driven by Playwright): the ERP (a real HTTP receiver) is sent one document.voided
naming the document's events, and the page shows the document voided."""

from __future__ import annotations

import shutil
import sys

import pytest
from support import REPO, SAMPLES, drain

from gateway.intake.receive import receive
from gateway.roles import HttpService
from gateway.store.models import EventRecord
from gateway.web.users import create_user

sys.path.insert(0, str(REPO / "tests" / "integration" / "console"))
from console_support import PASSWORD  # noqa: E402

CHROMIUM = shutil.which("chromium")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (apt-get install chromium)")
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"]


@pytest.fixture
def site(rt):
    rt.settings = rt.settings.with_overrides(http_port=0)
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


def test_support_voids_a_delivered_document_from_its_page(rt, site, browser, erp_receiver):
    create_user(rt, "sam", PASSWORD, "support")
    sample = SAMPLES / "855" / "855_004010_acme_accepted_with_changes.edi"
    document_id = receive(rt, sample.read_bytes(), channel="sftp", filename="855.edi", partner_id="demo").document_id
    drain(rt)
    with rt.session() as s:
        originals = [e.event_id for e in s.query(EventRecord).filter_by(document_id=document_id)]

    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    page.goto(f"{site}/signin")
    page.fill("#username", "sam")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{site}/")
    page.goto(f"{site}/documents/{document_id}")
    assert page.locator("#doc-voided").count() == 0
    page.fill("form:has(#void) input[name=reason]", "sent under the wrong partner")
    page.click("#void")
    page.wait_for_selector("#doc-voided")
    assert "sent under the wrong partner" in page.inner_text("#voided")
    assert page.locator("#void").count() == 0  # nothing left to void
    drain(rt)

    voided = [p["body"] for p in erp_receiver.posts if p["body"]["type"] == "document.voided"]
    assert [sorted(v["payload"]["original_event_ids"]) for v in voided] == [sorted(originals)]
