"""Dashboard counts link to the searches they count; search filters, pages, exports;
a partner user sees only its own documents (issue #12 §1, §3)."""

from __future__ import annotations

import csv
import io
import re

from gateway.store.models_api import AuditEntry


def _ids(page) -> set[str]:
    return set(re.findall(r'href="/documents/(doc_[0-9a-f]+)"', page.get_data(as_text=True)))


def test_the_dashboard_counts_open_rejections_and_links_to_that_search(as_role, documents):
    client = as_role("support")
    page = client.get("/").get_data(as_text=True)
    tile = re.search(r'<a href="(/search\?status=open)"><span class="n">(\d+)</span>', page)
    assert tile and tile.group(2) == "2"  # the bad 855, and the file that is no document at all
    assert _ids(client.get(tile.group(1))) == {documents["rejected"], documents["other"]}
    assert re.search(r'<th scope="row">demo</th>', page)  # today's table, per partner
    assert 'id="queues"' in page and "<th scope=\"col\">erp</th>" in page


def test_search_filters_by_status_set_control_number_po_and_text(as_role, documents):
    client = as_role("viewer")
    assert _ids(client.get("/search", query_string={"status": "rejected", "partner": "demo"})) == {
        documents["rejected"]}
    assert _ids(client.get("/search", query_string={"set_id": "855"})) == {documents["accepted"], documents["rejected"]}
    assert _ids(client.get("/search", query_string={"control_number": "000000102"})) == {documents["rejected"]}
    assert _ids(client.get("/search", query_string={"po": "4500012345"})) == {documents["accepted"]}
    assert _ids(client.get("/search", query_string={"po": "45000123"})) == set()  # a PO is matched whole
    assert _ids(client.get("/search", query_string={"text": "OTHER.TXT"})) == {documents["other"]}
    assert _ids(client.get("/search", query_string={"partner": "demo", "format": "x12"})) == {
        documents["accepted"], documents["rejected"]}
    assert _ids(client.get("/search", query_string={"received_to": "2000-01-01"})) == set()


def test_a_bad_filter_is_a_clear_400(as_role, documents):
    response = as_role("viewer").get("/search", query_string={"received_from": "yesterday"})
    assert response.status_code == 400
    assert "received_from must be a date like 2026-12-01" in response.get_data(as_text=True)


def test_results_are_paginated_and_the_url_is_the_search(as_role, documents, monkeypatch):
    monkeypatch.setattr("gateway.web.pages.search.PAGE_SIZE", 2)
    client = as_role("viewer")
    first = client.get("/search")
    assert "page 1 of 2" in first.get_data(as_text=True)
    second = client.get("/search", query_string={"page": "2"})
    assert len(_ids(first)) == 2 and len(_ids(second)) == 1 and not _ids(first) & _ids(second)


def test_exports_hold_every_match_in_csv_and_json_and_are_audited(rt, as_role, documents):
    client = as_role("support")
    rows = list(csv.DictReader(io.StringIO(client.get("/search.csv", query_string={"partner": "demo"})
                                           .get_data(as_text=True))))
    assert {r["id"] for r in rows} == {documents["accepted"], documents["rejected"]}
    data = client.get("/search.json", query_string={"status": "rejected", "partner": "demo"}).json
    assert [d["id"] for d in data["documents"]] == [documents["rejected"]] and data["count"] == 1
    with rt.session() as s:
        assert s.query(AuditEntry).filter_by(action="documents.export", actor="support:support").count() == 2


def test_a_partner_user_searches_and_counts_only_its_own_documents(as_role, documents):
    client = as_role("partner")
    assert _ids(client.get("/search")) == {documents["accepted"], documents["rejected"]}
    assert _ids(client.get("/search", query_string={"partner": "otherco"})) == {documents["accepted"],
                                                                               documents["rejected"]}
    exported = client.get("/search.json", query_string={"partner": "otherco"}).json
    assert {d["id"] for d in exported["documents"]} == {documents["accepted"], documents["rejected"]}
    page = client.get("/").get_data(as_text=True)
    assert "otherco" not in page and 'id="queues"' not in page


def test_csv_cells_that_a_spreadsheet_would_run_are_defused(rt, as_role):
    from gateway.intake.receive import receive

    receive(rt, b"=HYPERLINK(1)", channel="http", filename="=cmd|' /C calc'!A0", partner_id="demo")
    text = as_role("support").get("/search.csv").get_data(as_text=True)
    assert "'=cmd|" in text and "\n=cmd" not in text and ",=cmd" not in text


def test_a_saved_search_is_the_users_own_and_opens_the_same_url(as_role, documents):
    from console_support import post_form

    support = as_role("support")
    saved = post_form(support, "/search/saved", {"name": "open demo", "query": "status=open&partner=demo&bogus=1"},
                      "/search")
    assert saved.status_code == 303 and saved.headers["Location"] == "/search?partner=demo&status=open"
    page = support.get("/search").get_data(as_text=True)
    link = re.search(r'<a href="([^"]+)">open demo</a>', page)
    assert link and link.group(1) == "/search?partner=demo&amp;status=open"
    assert _ids(support.get("/search?partner=demo&status=open")) == {documents["rejected"]}
    assert ">open demo</a>" not in as_role("viewer").get("/search").get_data(as_text=True)
    search_id = re.search(r'action="/search/saved/(\d+)/delete"', page).group(1)
    viewer = as_role("viewer")
    post_form(viewer, f"/search/saved/{search_id}/delete", {}, "/search")  # not the viewer's: kept
    assert ">open demo</a>" in support.get("/search").get_data(as_text=True)
    post_form(support, f"/search/saved/{search_id}/delete", {}, "/search")
    assert ">open demo</a>" not in support.get("/search").get_data(as_text=True)
