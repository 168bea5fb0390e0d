"""The PO flow page in a real browser (Debian's chromium, driven by Playwright): a buyer
opens an 855 it received, follows its link to the PO's flow and reads each step's status
(the 855 late after a deadline check under a moved clock), the quantities per line, and
the alert; a partner user reads what it owes and cannot open another partner's list."""

from __future__ import annotations

import copy
import shutil
import sys
from datetime import date, timedelta

import pytest
import requests
from support import REPO, add_partner_like_demo, drain, with_partner_settings

from gateway.flow.deadlines import check_flow_deadlines
from gateway.intake.receive import receive
from gateway.roles import HttpService
from gateway.store.models_outbound import OutboundDocument
from gateway.web.auth import create_token
from gateway.web.users import create_user

sys.path.insert(0, str(REPO / "tests" / "integration" / "console"))
sys.path.insert(0, str(REPO / "tests" / "integration" / "outbound"))
from console_support import PASSWORD  # noqa: E402
from outbound_kit import PO, post_po  # noqa: E402

CHROMIUM = shutil.which("chromium")
SAMPLES = REPO / "sample_docs"
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (apt-get install chromium)")
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"]


@pytest.fixture
def two_suppliers(rt, monkeypatch, tmp_path):
    """The demo partner and a second supplier, globex."""
    with_partner_settings(rt, monkeypatch, tmp_path)  # a copy of partners/ to add globex to
    add_partner_like_demo(tmp_path / "partners", "globex", "GLOBEX")
    return with_partner_settings(rt, monkeypatch, tmp_path)


@pytest.fixture
def site(two_suppliers):
    rt = two_suppliers
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


def _sign_in(browser, site: str, username: str):
    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    page.goto(f"{site}/signin")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{site}/")
    return page


def test_a_buyer_follows_an_855_to_its_po_flow_and_a_partner_sees_what_it_owes(two_suppliers, site, browser):
    rt = two_suppliers
    create_user(rt, "bea", PASSWORD, "buyer")
    create_user(rt, "acme", PASSWORD, "partner", "demo")
    payload = copy.deepcopy(PO)
    wanted = (date.today() + timedelta(days=30)).isoformat()
    payload["requested_date"] = wanted
    for line in payload["lines"]:
        line["requested_date"] = wanted
    reply = post_po(site, create_token(rt, "erp", "buyer"), "po-flow-page", payload)
    assert reply.status_code == 201, reply.text
    with rt.session() as s:
        sent_at = s.get(OutboundDocument, reply.json()["id"]).created_at
    assert check_flow_deadlines(rt, sent_at + timedelta(hours=25)) == 2  # no 997 after 4 h, no 855 after 24 h
    ack = receive(rt, (SAMPLES / "855" / "855_004010_acme_accepted_with_changes.edi").read_bytes(), channel="sftp",
                  filename="855_acme.edi", partner_id="demo").document_id
    drain(rt)
    assert post_po(site, create_token(rt, "erp2", "buyer"), "po-globex", payload, partner="globex").status_code == 201

    page = _sign_in(browser, site, "bea")
    page.goto(f"{site}/documents/{ack}")
    page.click("#po-flows >> text=PO 4500012345")
    page.wait_for_url(f"{site}/purchase-orders/4500012345/flow?partner=demo")
    assert page.inner_text("#step-order .status") == "done"
    assert page.inner_text("#step-functional_ack .status") == "missing"
    assert page.inner_text("#step-order_ack .status") == "late"
    assert page.inner_text("#step-ship_notice .status") == "pending"
    assert "855 accepted_with_changes" in page.inner_text("#step-order_ack")  # its document, linked
    assert "came after it was flagged overdue" in page.inner_text("#step-order_ack")
    assert "no 997/999 functional ack" in page.inner_text("#flow-alerts")
    assert page.locator("#flow-lines tbody tr").count() == 3
    page.screenshot(path=str(REPO / "docs" / "console-po-flow.png"), full_page=True)

    partner = _sign_in(browser, site, "acme")
    partner.goto(f"{site}/partners/demo/open-steps")
    rows = partner.locator("#open-steps tbody tr")
    assert rows.count() == 2 and "missing" in rows.nth(0).inner_text() and "pending" in rows.nth(1).inner_text()
    assert partner.goto(f"{site}/partners/globex/open-steps").status == 404  # globex's list is not acme's
    assert partner.goto(f"{site}/purchase-orders/4500012345/flow?partner=globex").status == 200
    assert partner.inner_text("h1").endswith("demo")  # its own flow of that number, whatever it asks
    page.goto(f"{site}/partners/globex/open-steps")  # staff see any partner's
    assert page.locator("#open-steps tbody tr").count() == 3
    assert partner.goto(f"{site}/purchase-orders/4500012345/flow").status == 200
    assert requests.get(f"{site}/partners/demo/open-steps", timeout=30, allow_redirects=False).status_code == 302
