"""The demo ERP page in a real browser (Debian's chromium, driven by Playwright): a newcomer
who follows the README sees the 855's event arrive there."""

from __future__ import annotations

import shutil

import pytest
from support import SAMPLES, drain

from gateway.intake.receive import receive
from gateway.roles import HttpService

SAMPLE_855 = SAMPLES / "855" / "855_004010_acme_accepted_with_changes.edi"
CHROMIUM = shutil.which("chromium")

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (apt-get install chromium)")


@pytest.fixture
def demo_site(rt, monkeypatch):
    """The web role with the demo receiver, and the worker pointed at it (as `gateway up` does)."""
    rt.settings = rt.settings.with_overrides(http_port=0)
    http = HttpService(rt, demo_erp=True).start()
    url = f"http://127.0.0.1:{http.port}"
    monkeypatch.setenv("GATEWAY_ERP_URL", f"{url}/demo/erp/events")
    rt.settings = rt.settings.with_overrides(erp_url=f"{url}/demo/erp/events")
    yield url
    http.stop()


def test_the_demo_erp_page_lists_what_was_posted(rt, demo_site, tmp_path):
    playwright = pytest.importorskip("playwright.sync_api")
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=[
            "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync"])
        page = browser.new_page()
        page.goto(f"{demo_site}/demo/erp")
        assert "Nothing posted yet" in page.locator("#empty").inner_text()

        receive(rt, SAMPLE_855.read_bytes(), channel="sftp", filename=SAMPLE_855.name, partner_id="demo")
        drain(rt)

        page = browser.new_page()  # a fresh tab: the first one refreshes itself every 5 s
        page.goto(f"{demo_site}/demo/erp")
        row = page.locator("#postings tbody tr")
        assert row.count() == 1
        cells = row.first.locator("td")
        assert cells.nth(1).inner_text() == "purchase_order.acknowledged"
        assert cells.nth(3).inner_text() == "4500012345"
        row.first.locator("summary").click()
        assert '"po_number": "4500012345"' in row.first.locator("pre").inner_text()
        page.screenshot(path=str(tmp_path / "demo-erp.png"), full_page=True)
        browser.close()
