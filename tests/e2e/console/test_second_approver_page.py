"""In a real browser: for a partner that wants a second approver, support's corrected
copy waits on the Corrections page until another operator approves it; then it is
delivered and the original shows "resolved by" (issue #12 §1, §5)."""

from __future__ import annotations

import shutil
import sys

import pytest
from support import REPO, drain, with_partner_settings

from gateway.intake.receive import receive
from gateway.roles import HttpService
from gateway.web.users import create_user

sys.path.insert(0, str(REPO / "tests" / "integration" / "console"))
from console_support import BAD_855, PASSWORD  # noqa: E402

CHROMIUM = shutil.which("chromium")
DOCS = REPO / "docs"
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (apt-get install chromium)")
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"]


@pytest.fixture
def rt(rt, monkeypatch, tmp_path):
    return with_partner_settings(rt, monkeypatch, tmp_path, corrections={"second_approver": True})


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


def sign_in(browser, site: str, username: str):
    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    page.goto(f"{site}/signin")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{site}/")
    return page


def test_a_correction_waits_for_a_second_operator_in_the_browser(rt, site, browser, erp_receiver):
    create_user(rt, "sam", PASSWORD, "support")
    create_user(rt, "kim", PASSWORD, "support")
    original = receive(rt, BAD_855, channel="sftp", filename="855_acme.edi", partner_id="demo").document_id
    drain(rt)
    sam = sign_in(browser, site, "sam")
    sam.goto(f"{site}/documents/{original}/edit")
    sam.fill("#editor", sam.input_value("#editor").replace("068*20261301~", "068*20261201~"))
    sam.select_option("#reason_code", "wrong_value")
    sam.fill("#note", "buyer confirmed the date by phone")
    sam.click("#resubmit")
    sam.wait_for_url(f"{site}/documents/{original}")
    assert "Kept for a second approver" in sam.inner_text("main")
    sam.goto(f"{site}/corrections")
    assert "You made this correction" in sam.inner_text("main")

    kim = sign_in(browser, site, "kim")
    assert "1\nHeld: corrections awaiting approval" in kim.inner_text("#counts")
    kim.click("text=Held: corrections awaiting approval")
    kim.wait_for_url(f"{site}/corrections")
    assert "+ACK*IA*100*EA*068*20261201~" in kim.inner_text("pre.diff")
    kim.screenshot(path=str(DOCS / "console-corrections.png"), full_page=True)
    kim.fill("section.correction form:has(button:text('Approve')) input[name=reason]", "checked against the PO")
    kim.click("button:text('Approve')")
    kim.wait_for_url(lambda url: "/documents/doc_" in url and original not in url)
    copy = kim.url.rsplit("/", 1)[-1]
    drain(rt)
    kim.goto(f"{site}/documents/{original}")
    assert kim.inner_text("#resolution").startswith(f"resolved by {copy}")
    assert [p["status"] for p in erp_receiver.posts] == [200]
