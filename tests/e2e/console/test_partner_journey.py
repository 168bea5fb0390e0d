"""The partner journey in a real browser (Debian's chromium, driven by Playwright): ACME's
user signs in, finds its rejected 855 with the problem in plain language, sees the failing
element marked, downloads our 997, uploads a corrected file through the page and sees it
accepted; another partner's document and ack stay out of reach (404), and so do support's
pages (403)."""

from __future__ import annotations

import shutil
import sys

import pytest
from support import REPO, drain

from gateway.roles import HttpService
from gateway.store.models import Document

sys.path.insert(0, str(REPO / "tests" / "integration" / "console"))
from console_support import PASSWORD, SAMPLE_855  # noqa: E402
from partner_world import make_world  # noqa: E402

CHROMIUM = shutil.which("chromium")
DOCS = REPO / "docs"
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (apt-get install chromium)")
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"]


@pytest.fixture
def world(rt, tmp_path, monkeypatch):
    return make_world(tmp_path, monkeypatch)


@pytest.fixture
def site(world):
    rt = world.rt
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


def test_a_partner_finds_its_rejected_855_downloads_the_997_and_uploads_a_fix(world, site, browser, tmp_path):
    rt, mine, theirs = world.rt, world.mine, world.theirs
    page = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True).new_page()
    page.goto(f"{site}/signin")
    page.fill("#username", "acme")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{site}/")
    page.click("#nav-partner")
    page.wait_for_url(f"{site}/partner")
    table = page.inner_text("#documents")
    assert "demo-bad.edi" in table and "demo-good.edi" in table and "otherco" not in table
    assert "is not a valid date" in table
    DOCS.mkdir(exist_ok=True)
    page.screenshot(path=str(DOCS / "console-partner.png"), full_page=True)

    page.click("text=demo-bad.edi")
    page.wait_for_url(f"{site}/documents/{mine['rejected']}")
    assert page.locator("li.seg.failing mark.bad").inner_text() == "20261301"
    assert "ACK05" in page.inner_text("#findings")
    assert page.locator("#deliveries").count() == 0  # our systems are not the partner's business
    with page.expect_download() as download:
        page.locator("#acks a.ack-download").first.click()
    saved = tmp_path / download.value.suggested_filename
    download.value.save_as(saved)
    assert saved.name.startswith("997_") and b"AK5*R" in saved.read_bytes()
    page.screenshot(path=str(DOCS / "console-partner-document.png"), full_page=True)

    fixed = tmp_path / "855_fixed.edi"
    fixed.write_bytes(SAMPLE_855.read_bytes().replace(b"000000101", b"000000103"))
    page.goto(f"{site}/partner")
    page.set_input_files("#upload-file", str(fixed))
    page.click("#upload")
    page.wait_for_url(lambda url: "/documents/doc_" in url)
    uploaded = page.url.rsplit("/", 1)[-1]
    assert "Received and stored" in page.inner_text("main")
    drain(rt)
    page.reload()
    assert page.inner_text("#doc-status") == "Accepted"
    assert page.locator("#acks a.ack-download").count() == 1

    assert page.goto(f"{site}/documents/{theirs['rejected']}").status == 404
    assert page.goto(f"{site}/partner/acks/{theirs['ack']}").status == 404
    assert page.goto(f"{site}/audit").status == 403
    assert page.goto(f"{site}/documents/{mine['rejected']}/edit").status == 403
    with rt.session() as s:
        assert s.get(Document, uploaded).channel == "portal" and s.get(Document, uploaded).status == "accepted"
        assert s.get(Document, mine["rejected"]).status == "rejected"  # the original stays as it arrived
