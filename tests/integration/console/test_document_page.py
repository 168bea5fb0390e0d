"""The document page: numbered segments with the failing segment and element marked
beside the finding; acks, events, deliveries, timeline and audit trail; partners see
only their own documents, by URL or id (issue #12 §1, §3)."""

from __future__ import annotations

import re

from gateway.web.pages.raw_view import raw_view


def test_the_failing_segment_and_element_are_marked_beside_the_finding(as_role, documents):
    page = as_role("support").get(f"/documents/{documents['rejected']}").get_data(as_text=True)
    failing = re.findall(r'<li id="seg-(\d+)" class="seg failing">(.*?)</li>', page, re.S)
    assert [n for n, _ in failing] == ["10"]  # ISA, GS, then ST=1 ... ACK is set segment 8
    line = failing[0][1]
    assert '<mark class="bad" title="element ACK05">20261301</mark>' in line
    assert "ACK05: &#39;20261301&#39; is not a valid date" in line
    assert page.count('<mark class="bad"') == 1
    assert page.count("is not a valid date </li>") == 0 and page.count('<a href="#seg-10">segment 10</a>') == 1
    assert 'id="findings"' in page and 'id="seg-20"' in page  # IEA numbered too


def test_an_accepted_document_shows_its_ack_events_deliveries_and_timeline(as_role, documents):
    page = as_role("viewer").get(f"/documents/{documents['accepted']}").get_data(as_text=True)
    assert "purchase_order.acknowledged" in page
    assert re.search(r'<span class="status delivered">delivered</span>', page)
    timeline = re.search(r'<ol id="timeline".*?</ol>', page, re.S).group(0)
    assert "received over sftp as good.edi" in timeline and "delivered to erp_http after 1 attempt(s)" in timeline
    assert 'class="seg failing"' not in page
    assert 'id="actions-h"' not in page  # a viewer is offered no actions


def test_a_partner_cannot_open_another_partners_document_by_url_or_id(rt, as_role, documents):
    client = as_role("partner")
    assert client.get(f"/documents/{documents['accepted']}").status_code == 200
    assert client.get(f"/documents/{documents['other']}").status_code == 404
    assert client.get("/documents/doc_does_not_exist").status_code == 404
    found = client.get("/search", query_string={"text": documents["other"]}).get_data(as_text=True)
    assert f'href="/documents/{documents["other"]}"' not in found and 'id="total">0 documents' in found


def test_a_non_x12_document_is_shown_as_text(as_role, documents):
    page = as_role("support").get(f"/documents/{documents['other']}").get_data(as_text=True)
    assert '<pre class="rawtext" id="raw">hello, not a document</pre>' in page


def test_segments_are_numbered_across_envelopes_with_their_set_position(rt):
    from console_support import BAD_855

    errors = [{"segment_index": 8, "element": "ACK05", "message": "bad date"},
              {"segment_index": 2, "element": "BAK99", "message": "element of another segment: not marked"}]
    view = raw_view(BAD_855, [{"group_control_number": "101", "control_number": "0001", "set_id": "855",
                               "errors": errors}])
    assert [(line.number, line.tag) for line in view.lines[:3]] == [(1, "ISA"), (2, "GS"), (3, "ST")]
    ack = view.lines[9]
    assert (ack.tag, ack.set_ref, ack.bad_elements) == ("ACK", "855 0001 #8", {5})
    assert view.lines[3].bad_elements == {99}  # BAK99 names BAK: position kept even if absent
    assert [line.number for line in view.lines if line.failing] == [4, 10]
