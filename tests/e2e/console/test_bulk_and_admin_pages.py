"""In a real browser (Debian's chromium, driven by Playwright): support replays an ERP
outage's dead letters with a preview first; an admin makes a token and revokes it; an
oversized edit-and-resubmit form is refused with a 413 page and changes nothing
(issue #12 §1, §5). Screenshots of the pages go to docs/."""

from __future__ import annotations

import shutil
import sys

import pytest
from support import REPO, drain

from gateway.intake.receive import receive
from gateway.roles import HttpService
from gateway.store.models import DeliveryRecord, Document, EventRecord
from gateway.store.models_api import ApiToken, AuditEntry
from gateway.store.models_users import DocumentResolution, Resubmission
from gateway.web.users import create_user

sys.path.insert(0, str(REPO / "tests" / "integration" / "console"))
from console_support import BAD_855, PASSWORD, SAMPLE_855  # noqa: E402

CHROMIUM = shutil.which("chromium")
DOCS = REPO / "docs"
LIMIT = 256 * 1024
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (apt-get install chromium)")
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"]


@pytest.fixture
def site(rt):
    rt.settings = rt.settings.with_overrides(http_port=0, max_request_bytes=LIMIT)
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


def test_support_previews_then_replays_the_dead_letters_of_an_erp_outage(rt, site, browser, erp_receiver):
    create_user(rt, "sam", PASSWORD, "support")
    erp_receiver.script = [500] * 6  # the ERP is down: both documents' deliveries are dead-lettered
    docs = [receive(rt, SAMPLE_855.read_bytes().replace(b"000000101", f"{n:09d}".encode())
                    .replace(b"*4500012345*", f"*45000{n:05d}*".encode()),  # its own PO: nothing superseded
                    channel="sftp", filename=f"855-{n}.edi", partner_id="demo").document_id for n in (401, 402)]
    drain(rt)
    page = sign_in(browser, site, "sam")
    page.click("text=Bulk actions")
    page.select_option("#replay-form select[name=adapter]", "erp_http")
    page.select_option("#replay-form select[name=partner]", "demo")
    page.click("#replay-form button[type=submit]")
    page.wait_for_url(f"{site}/bulk/previews/*")
    assert "2 deliveries would be replayed: demo 2" in page.inner_text("#bulk-count")
    assert page.locator("#bulk-sample tbody tr").count() == 2
    assert "erp_http" in page.inner_text("#bulk-filter") and "demo" in page.inner_text("#bulk-filter")
    page.screenshot(path=str(DOCS / "console-bulk-preview.png"), full_page=True)
    assert not erp_receiver.posts[6:]  # a preview sends nothing
    page.fill("#confirm-form input[name=reason]", "ERP back after the 09:00 outage")
    page.click("#confirm-form button[type=submit]")
    assert "2 replayed; 0 skipped" in page.inner_text("#bulk-result")
    drain(rt)
    with rt.session() as s:
        delivered = s.query(DeliveryRecord).join(EventRecord).filter(EventRecord.document_id.in_(docs),
                                                                     DeliveryRecord.status == "delivered").count()
        [row] = s.query(AuditEntry).filter_by(action="bulk.replay_dead_letters").all()
    assert delivered == 2 and row.actor == "support:sam" and len(row.details["applied"]) == 2
    assert [p["status"] for p in erp_receiver.posts[6:]] == [200, 200]


def test_an_admin_makes_a_token_sees_it_once_and_revokes_it(rt, site, browser):
    create_user(rt, "ada", PASSWORD, "admin")
    page = sign_in(browser, site, "ada")
    page.click("text=Users & tokens")
    page.click("text=API tokens")
    page.fill("#new-token-form input[name=name]", "erp-sync")
    page.select_option("#new-token-form select[name=role]", "support")
    page.click("#new-token-form button[type=submit]")
    secret = page.inner_text("#token-secret").strip()
    assert secret.startswith("gw_")
    api = page.context.request
    assert api.get(f"{site}/api/v1/documents", headers={"Authorization": f"Bearer {secret}"}).status == 200
    page.goto(f"{site}/admin/tokens")
    assert secret not in page.content()
    page.screenshot(path=str(DOCS / "console-tokens.png"), full_page=True)
    with rt.session() as s:
        token_id = s.query(ApiToken).filter_by(name="erp-sync").one().id
    page.fill(f"#token-{token_id} input[name=reason]", "rotated")
    page.click(f"#token-{token_id} button[type=submit]")
    assert "revoked" in page.inner_text(f"#token-{token_id}")
    assert api.get(f"{site}/api/v1/documents", headers={"Authorization": f"Bearer {secret}"}).status == 401


def test_an_oversized_edit_and_resubmit_form_is_refused_with_a_413_page(rt, site, browser):
    create_user(rt, "sam", PASSWORD, "support")
    doc = receive(rt, BAD_855, channel="sftp", filename="bad.edi", partner_id="demo").document_id
    drain(rt)
    page = sign_in(browser, site, "sam")
    page.goto(f"{site}/documents/{doc}/edit")
    # The user pastes something far bigger than a request may be (the editor itself does not stop it).
    page.evaluate("n => { document.getElementById('editor').value = 'N9*ZZ*' + 'X'.repeat(n) + '~'; }", LIMIT + 10_000)
    page.fill("#note", "pasted the wrong file")
    with page.expect_navigation() as nav:
        page.click("#resubmit")
    assert nav.value.status == 413
    assert "too large" in page.inner_text("#error-message")
    with rt.session() as s:
        assert s.get(Document, doc).status == "rejected"
        assert s.get(DocumentResolution, doc) is None and s.query(Resubmission).count() == 0


def test_each_role_is_offered_only_the_pages_it_may_use(rt, site, browser):
    pages = {"Bulk actions": ("/bulk", ("admin", "support")), "Corrections": ("/corrections", ("admin", "support")),
             "Users & tokens": ("/admin/users", ("admin",))}
    for role in ("admin", "support", "buyer", "viewer", "partner"):
        create_user(rt, f"u-{role}", PASSWORD, role, "demo" if role == "partner" else None)
        page = sign_in(browser, site, f"u-{role}")
        nav = page.inner_text("nav[aria-label=Main]")
        for label, (path, roles) in pages.items():
            assert (label in nav) == (role in roles), (role, label)
            assert page.goto(f"{site}{path}").status == (200 if role in roles else 403), (role, path)
        page.context.close()
