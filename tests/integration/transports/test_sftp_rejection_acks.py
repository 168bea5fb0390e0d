"""An invalid transaction set sent over SFTP (OpenSSH's own `sftp` client, the real
SFTP service, a real worker on Redis, both databases): the 997 (004010) or 999 (005010)
that rejects it, with the AK3/AK4 (IK3/IK4) naming the bad element, waits in the
partner's ``outbound/``; ``/api/v1/documents`` shows the rejection with its findings;
nothing reaches the ERP."""

from __future__ import annotations

import shutil

import pytest
from sftp_kit import SftpRig
from support import REPO, SAMPLES, drain

from gateway.web.app import create_app
from gateway.web.auth import create_token

SAMPLE_855 = (SAMPLES / "855" / "855_004010_acme_accepted_with_changes.edi").read_bytes()
# PO102 (quantity, type R) of the second line carries the letter O: element error 6
BAD_QUANTITY = SAMPLE_855.replace(b"PO1*2*50*EA", b"PO1*2*5O*EA", 1)

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("sftp") is None, reason="OpenSSH sftp client not installed"),
]


def as_005010(data: bytes) -> bytes:
    """The same interchange in 005010: ISA11 repetition separator, ISA12 00501, GS08 005010."""
    return data.replace(b"*U*00401*", b"*^*00501*", 1).replace(b"*X*004010~", b"*X*005010~", 1)


CASES = {
    "997 for 004010": (BAD_QUANTITY, "997", ["AK3*PO1*9**8", "AK4*2*330*6*5O", "AK5*R*5", "AK9*R*1*1*0"]),
    "999 for 005010": (as_005010(BAD_QUANTITY), "999", ["IK3*PO1*9**8", "IK4*2*330*6*5O", "IK5*R*5", "AK9*R*1*1*0"]),
}


@pytest.mark.parametrize("case", CASES)
def test_an_invalid_set_over_sftp_is_rejected_with_its_ack_and_findings(case, rt, erp_receiver, tmp_path):
    data, kind, ack_segments = CASES[case]
    rig = SftpRig(tmp_path, rt.settings.database_url, rt.settings.redis_url, REPO / "partners")
    try:
        upload = tmp_path / "po-ack.edi"
        upload.write_bytes(data)
        put = rig.sftp(f"put {upload} inbound/\n", "demo")
        assert put.returncode == 0, put.stderr  # the bytes are stored: the sender is told "received"
        drain(rt)
        fetched = tmp_path / "fetched"
        fetched.mkdir()
        got = rig.sftp(f"lcd {fetched}\nget outbound/*\n", "demo")
        assert got.returncode == 0, got.stderr
    finally:
        rig.stop()

    [ack_file] = list(fetched.iterdir())
    assert ack_file.name.startswith(f"{kind}_")
    segments = ack_file.read_text().split("~")
    assert f"ST*{kind}*0001" in "~".join(segments) and "AK1*PR*101" in "~".join(segments)
    assert [s for s in segments if s.startswith(("AK3", "AK4", "AK5", "IK3", "IK4", "IK5", "AK9"))] == ack_segments

    client = create_app(rt).test_client()
    headers = {"Authorization": "Bearer " + create_token(rt, "t-support", "support")}
    listed = client.get("/api/v1/documents", query_string={"status": "rejected"}, headers=headers)
    assert listed.status_code == 200
    [summary] = listed.json["documents"]
    assert summary["channel"] == "sftp" and summary["partner_id"] == "demo" and summary["reason"]
    detail = client.get(f"/api/v1/documents/{summary['id']}", headers=headers).json
    [tset] = detail["transaction_sets"]
    assert (tset["set_id"], tset["control_number"], tset["status"]) == ("855", "0001", "rejected")
    assert "PO102" in summary["reason"]
    assert {(f["code"], f["segment_id"], f["segment_index"], f["element"]) for f in tset["errors"]} == {
        ("INVALID_NUMERIC_VALUE", "PO1", 9, "PO102")}, tset["errors"]
    assert all(f["message"] for f in tset["errors"])
    assert detail["ack"]["kind"] == kind and detail["ack"]["status"] == "sent"
    assert detail["ack"]["text"] == ack_file.read_text()
    assert erp_receiver.posts == []
