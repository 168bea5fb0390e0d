"""Two partners with real traffic, for the partner-boundary tests: ``demo`` (ACME) and
``otherco``, each with an accepted 855 (997 sent, event delivered to the ERP) and a
rejected one, a partner user and a token each, and a saved search of otherco's user."""

from __future__ import annotations

import shutil
from dataclasses import dataclass

import yaml
from console_support import BAD_855, PASSWORD, SAMPLE_855
from sqlalchemy import select
from support import REPO, drain

import gateway.bootstrap as bootstrap_module
from gateway.bootstrap import bootstrap
from gateway.config import load_settings
from gateway.intake.receive import receive
from gateway.store.models import AckRecord, DeliveryRecord, Document, EventRecord
from gateway.store.models_users import SavedSearch
from gateway.web.auth import create_token
from gateway.web.users import create_user


def as_otherco(x12: bytes) -> bytes:
    """The same interchange, sent by OTHERCO (ISA06 keeps its 15 characters)."""
    return x12.replace(b"ACMESUPPLY     ", b"OTHERCO        ").replace(b"*ACMESUPPLY*", b"*OTHERCO*")


@dataclass
class World:
    rt: object
    mine: dict  # demo's ids: accepted, rejected, ack, delivery
    theirs: dict  # otherco's ids: accepted, rejected, ack, delivery, saved_search, filename
    partner_token: str  # a bearer token of demo


def make_world(tmp_path, monkeypatch) -> World:
    partners = tmp_path / "partners"
    shutil.copytree(REPO / "partners", partners)
    data = yaml.safe_load((partners / "demo" / "partner.yaml").read_text())
    other = {k: v for k, v in data.items() if k != "xml"}
    other.update(id="otherco", name="Other Co", x12={**data["x12"], "id": "OTHERCO", "group_ids": ["OTHERCO"]})
    (partners / "otherco").mkdir()
    (partners / "otherco" / "partner.yaml").write_text(yaml.safe_dump(other))
    monkeypatch.setenv("GATEWAY_PARTNERS_DIR", str(partners))
    monkeypatch.setattr(bootstrap_module, "_runtime", None)
    rt = bootstrap(load_settings())
    ids = {}
    for partner, convert in (("demo", lambda b: b), ("otherco", as_otherco)):
        good = receive(rt, convert(SAMPLE_855.read_bytes()), channel="sftp", filename=f"{partner}-good.edi",
                       partner_id=partner).document_id
        bad = receive(rt, convert(BAD_855.replace(b"000000101", b"000000102")), channel="sftp",
                      filename=f"{partner}-bad.edi", partner_id=partner).document_id
        ids[partner] = {"accepted": good, "rejected": bad, "filename": f"{partner}-good.edi"}
    drain(rt)
    with rt.session() as s:
        for partner, own in ids.items():
            assert s.get(Document, own["accepted"]).status == "accepted", partner
            assert s.get(Document, own["rejected"]).status == "rejected", partner
            own["ack"] = s.scalar(select(AckRecord.id).where(AckRecord.document_id == own["accepted"]))
            own["delivery"] = s.scalar(select(DeliveryRecord.id).join(EventRecord)
                                       .where(EventRecord.document_id == own["accepted"]))
            assert own["ack"] and own["delivery"], partner
    create_user(rt, "acme", PASSWORD, "partner", "demo")
    zed = create_user(rt, "zed", PASSWORD, "partner", "otherco")
    with rt.session() as s:
        row = SavedSearch(user_id=zed.id, name="zed's", query="status=rejected")
        s.add(row)
        s.flush()
        ids["otherco"]["saved_search"] = row.id
    return World(rt, ids["demo"], ids["otherco"], create_token(rt, "acme-erp", "partner", "demo"))
