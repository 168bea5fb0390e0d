"""The audit log, read-only, as a page and through the API; partners see neither."""

from __future__ import annotations

from console_support import post_form

from gateway.web.auth import create_token


def test_the_audit_page_and_api_list_actions_newest_first_for_staff_only(rt, app, as_role, documents):
    support = as_role("support")
    doc = documents["rejected"]
    post_form(support, f"/documents/{doc}/ignore", {"reason": "partner re-sent it"}, f"/documents/{doc}")
    page = as_role("viewer").get("/audit", query_string={"action": "document.ignore"}).get_data(as_text=True)
    assert f'<a href="/documents/{doc}">{doc}</a>' in page and "partner re-sent it" in page
    assert as_role("partner").get("/audit").status_code == 403
    client = app.test_client()
    staff = {"Authorization": "Bearer " + create_token(rt, "b", "buyer")}
    partner = {"Authorization": "Bearer " + create_token(rt, "p", "partner", "demo")}
    entries = client.get("/api/v1/audit", headers=staff).json["entries"]
    assert [e["action"] for e in entries[:2]] == ["token.create", "token.create"]  # newest first
    ignored = client.get("/api/v1/audit", query_string={"target": doc}, headers=staff).json["entries"]
    assert [(e["action"], e["actor"], e["reason"]) for e in ignored if e["action"] != "document.view"] == [
        ("document.ignore", "support:support", "partner re-sent it")]
    assert client.get("/api/v1/audit", headers=partner).status_code == 403
    assert client.get("/api/v1/audit").status_code == 401
    assert client.post("/api/v1/audit", headers=staff).status_code == 405  # read-only
