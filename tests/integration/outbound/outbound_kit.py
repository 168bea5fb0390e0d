"""The ERP's side (posting a PO over real HTTP) and the supplier's side (answering the
850 it fetched with a 997 of its own) of the outbound round trip."""

from __future__ import annotations

import json
from pathlib import Path

import requests

from gateway.x12.reader import read_x12

REPO = Path(__file__).resolve().parents[3]
PO = json.loads((REPO / "maps" / "translate" / "x12-850-004010.buyerco.expected.json").read_text())[0]["payload"]


def post_po(base_url: str, token: str, key: str | None, payload: dict | None = None, partner: str = "demo"):
    headers = {"Authorization": f"Bearer {token}"}
    if key is not None:
        headers["Idempotency-Key"] = key
    return requests.post(f"{base_url}/api/v1/purchase-orders", headers=headers, timeout=60,
                         json={"type": "purchase_order.issued", "partner_id": partner, "payload": payload or PO})


def answer_997(sent_850: bytes, ak5: str = "A", detail: str = "", icn: int = 501) -> bytes:
    """The supplier's 997 for the 850 it received: its own envelope, our GS06 and ST02 echoed."""
    ic = read_x12(sent_850).interchanges[0]
    group, ts = ic.groups[0], ic.groups[0].transactions[0]
    ak9 = "A*1*1*1" if ak5 == "A" else ("E*1*1*1" if ak5 == "E" else "R*1*1*0")
    body = [f"AK1*PO*{group.control_number}", f"AK2*850*{ts.control_number}",
            *[s for s in detail.split("~") if s], f"AK5*{ak5}", f"AK9*{ak9}"]
    them, us = f"{ic.receiver_qualifier}*{ic.receiver_id:<15}", f"{ic.sender_qualifier}*{ic.sender_id:<15}"
    segments = [f"ISA*00*          *00*          *{them}*{us}*261202*1000*U*00401*{icn:09d}*0*P*>",
                f"GS*FA*{group.receiver}*{group.sender}*20261202*1000*{icn}*X*004010", "ST*997*0001",
                *body, f"SE*{len(body) + 2}*0001", f"GE*1*{icn}", f"IEA*1*{icn:09d}"]
    return ("~\n".join(segments) + "~\n").encode()


def answer_ta1(sent_850: bytes, ta104: str, note: str = "000", icn: int = 601) -> bytes:
    """The supplier's TA1 for the interchange it received (an interchange of TA1 alone)."""
    ic = read_x12(sent_850).interchanges[0]
    them, us = f"{ic.receiver_qualifier}*{ic.receiver_id:<15}", f"{ic.sender_qualifier}*{ic.sender_id:<15}"
    return (f"ISA*00*          *00*          *{them}*{us}*261202*1000*U*00401*{icn:09d}*0*P*>~\n"
            f"TA1*{ic.control_number}*{ic.date}*{ic.time}*{ta104}*{note}~\nIEA*0*{icn:09d}~\n").encode()
