"""The support journey in a real browser (Debian's chromium, driven by Playwright):
support signs in, finds a rejected 855, sees the failing element highlighted, corrects
it with live validation, resubmits, and sees the copy delivered and the original marked
resolved. A partner cannot open another partner's document; a cross-site POST and an
oversized one are refused. Screenshots of the main pages go to docs/ (issue #12 §5)."""

from __future__ import annotations

import shutil
import sys

import pytest
from support import REPO, drain

from gateway.intake.receive import receive
from gateway.roles import HttpService
from gateway.store.models import Document
from gateway.store.models_users import DocumentResolution
from gateway.web.users import create_user

sys.path.insert(0, str(REPO / "tests" / "integration" / "console"))
from console_support import BAD_855, PASSWORD  # noqa: E402

CHROMIUM = shutil.which("chromium")
DOCS = REPO / "docs"
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (apt-get install chromium)")
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"]


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


def _sign_in(browser, site: str, username: str):
    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    page.goto(f"{site}/signin")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{site}/")
    return page


def _shot(page, name: str) -> None:
    DOCS.mkdir(exist_ok=True)
    page.screenshot(path=str(DOCS / name), full_page=True)


def test_support_corrects_a_rejected_855_and_sees_it_delivered(rt, site, browser, erp_receiver):
    create_user(rt, "sam", PASSWORD, "support")
    original = receive(rt, BAD_855, channel="sftp", filename="855_acme.edi", partner_id="demo").document_id
    drain(rt)

    signin = browser.new_page()
    signin.goto(f"{site}/signin")
    _shot(signin, "console-signin.png")

    page = _sign_in(browser, site, "sam")
    _shot(page, "console-dashboard.png")
    page.click("text=Rejected, open")
    page.wait_for_url(f"{site}/search?status=open")
    assert page.inner_text("#total").startswith("1 document.")
    _shot(page, "console-search.png")
    page.click("text=855_acme.edi")
    page.wait_for_url(f"{site}/documents/{original}")

    failing = page.locator("li.seg.failing")
    assert failing.count() == 1
    assert failing.locator("span.num").inner_text() == "10"
    assert failing.locator("mark.bad").inner_text() == "20261301"
    assert "ACK05" in failing.locator(".finding").inner_text()
    _shot(page, "console-document.png")

    page.click("#edit")
    page.wait_for_url(f"{site}/documents/{original}/edit")
    page.wait_for_selector("#live-findings")  # live validation: the bad date is reported
    assert "ACK05" in page.inner_text("#live-findings")
    page.fill("#editor", page.input_value("#editor").replace("068*20261301~", "068*20261201~"))
    page.wait_for_function("document.getElementById('live-status')?.textContent === 'Valid.'")
    page.select_option("#reason_code", "wrong_value")
    page.fill("#note", "buyer confirmed the date by phone")
    _shot(page, "console-edit.png")
    page.click("#resubmit")
    page.wait_for_url(lambda url: "/documents/doc_" in url and original not in url)
    copy = page.url.rsplit("/", 1)[-1]

    drain(rt)
    page.reload()
    assert page.inner_text("#doc-status") == "accepted"
    assert page.locator("#deliveries .status.delivered").count() == 1
    assert original in page.inner_text("#originals")
    page.goto(f"{site}/documents/{original}")
    assert page.inner_text("#resolution").startswith(f"resolved by {copy}")
    assert [p["status"] for p in erp_receiver.posts] == [200]
    with rt.session() as s:
        assert s.get(Document, original).status == "rejected"


def test_a_partner_cannot_open_another_partners_document(rt, site, browser):
    create_user(rt, "acme", PASSWORD, "partner", "demo")
    other = receive(rt, b"not ours", channel="http", filename="other.txt", partner_id="otherco").document_id
    mine = receive(rt, b"ours", channel="http", filename="mine.txt", partner_id="demo").document_id
    page = _sign_in(browser, site, "acme")
    response = page.goto(f"{site}/documents/{other}")
    assert response.status == 404 and "There is no document" in page.inner_text("#error-message")
    assert page.goto(f"{site}/documents/{mine}").status == 200
    page.goto(f"{site}/search?partner=otherco")
    assert "other.txt" not in page.inner_text("#results") and "mine.txt" in page.inner_text("#results")
    assert page.goto(f"{site}/audit").status == 403


def test_a_cross_site_post_and_an_oversized_one_are_refused(rt, site, browser):
    create_user(rt, "sam", PASSWORD, "support")
    doc = receive(rt, BAD_855, channel="sftp", filename="bad.edi", partner_id="demo").document_id
    drain(rt)
    page = _sign_in(browser, site, "sam")
    # A page on another site posts a form at the console with the user's browser.
    page.set_content(f'<form id="f" method="post" action="{site}/documents/{doc}/ignore">'
                     '<input name="reason" value="forged"></form>')
    with page.expect_navigation() as nav:
        page.evaluate("document.getElementById('f').submit()")
    assert nav.value.status == 400  # refused: no CSRF token (and, SameSite=Lax, no session cookie either)
    with rt.session() as s:
        assert s.get(DocumentResolution, doc) is None
    page.goto(f"{site}/documents/{doc}")
    token = page.locator('input[name="csrf_token"]').first.input_value()
    big = page.request.post(f"{site}/documents/{doc}/ignore",
                            form={"csrf_token": token, "reason": "x" * (300 * 1024)})
    assert big.status == 413
    with rt.session() as s:
        assert s.get(DocumentResolution, doc) is None


def test_each_role_sees_only_the_actions_it_may_take(rt, site, browser):
    doc = receive(rt, BAD_855, channel="sftp", filename="bad.edi", partner_id="demo").document_id
    drain(rt)
    for role in ("admin", "support", "buyer", "viewer", "partner"):
        create_user(rt, f"u-{role}", PASSWORD, role, "demo" if role == "partner" else None)
        page = _sign_in(browser, site, f"u-{role}")
        page.goto(f"{site}/documents/{doc}")
        offered = page.locator("#reprocess").count() + page.locator("#ignore").count() + page.locator("#edit").count()
        assert offered == (3 if role in ("admin", "support") else 0), role
        response = page.goto(f"{site}/documents/{doc}/edit")
        assert response.status == (200 if role in ("admin", "support") else 403), role
        page.context.close()

