"""The dashboard's held count: test data recorded and delivered nowhere, linked to the
search that lists it (issue #12 §1)."""

from __future__ import annotations

import re

from console_support import SAMPLE_855
from support import drain

from gateway.intake.receive import receive

TEST_855 = SAMPLE_855.read_bytes().replace(b"*000000101*0*P*", b"*000000501*0*T*", 1).replace(
    b"IEA*1*000000101~", b"IEA*1*000000501~")


def test_held_test_data_is_counted_on_the_dashboard_and_found_by_its_link(rt, as_role, erp_receiver):
    held = receive(rt, TEST_855, channel="sftp", filename="test-855.edi", partner_id="demo").document_id
    delivered = receive(rt, SAMPLE_855.read_bytes(), channel="sftp", filename="prod-855.edi",
                        partner_id="demo").document_id
    drain(rt)
    client = as_role("support")
    page = client.get("/").get_data(as_text=True)
    tile = re.search(r'<a href="([^"]+)"><span class="n">(\d+)</span> <span class="label">Held \(test data', page)
    assert tile and tile.group(2) == "1"
    listed = client.get(tile.group(1).replace("&amp;", "&")).get_data(as_text=True)
    assert f"/documents/{held}" in listed and f"/documents/{delivered}" not in listed
    assert len(erp_receiver.posts) == 1  # only the production document was delivered
