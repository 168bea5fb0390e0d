"""Migration 0096: events stored before it get the PO or invoice number they are about,
so a later 855 still supersedes an acknowledgment recorded before the upgrade."""

from __future__ import annotations

import json
import uuid

import sqlalchemy as sa

from gateway.store.db import engine_for
from gateway.store.migrate import current_revision, upgrade


def _revision_before(revision: str) -> str:
    from alembic.script import ScriptDirectory

    from gateway.store.migrate import alembic_config

    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_revision(revision).down_revision


def test_existing_events_get_their_reference(database_url):
    upgrade(database_url, _revision_before("0096"))  # the schema as 0096 finds it
    engine = engine_for(database_url)
    rows = {"purchase_order.acknowledged": {"po_number": "PO-1"}, "invoice.received": {"invoice_number": "INV-9"},
            "shipment.noticed": {"shipment_id": "S-1"}}
    ids = {}
    with engine.begin() as c:
        c.execute(sa.text("INSERT INTO documents (id, channel, filename, sha256, size, format, status, errors, "
                          "correlation_id, received_at, process_attempts, test) VALUES ('d1', 'sftp', 'a.edi', "
                          "'00', 1, 'x12', 'accepted', '[]', 'c1', CURRENT_TIMESTAMP, 0, false)"))
        for kind, payload in rows.items():
            ids[kind] = str(uuid.uuid4())
            c.execute(sa.text("INSERT INTO events (event_id, type, partner_id, document_id, body, created_at) "
                              "VALUES (:id, :type, 'demo', 'd1', :body, CURRENT_TIMESTAMP)"),
                      {"id": ids[kind], "type": kind, "body": json.dumps({"type": kind, "payload": payload})})
    upgrade(database_url, "0096")
    assert "0096" in current_revision(database_url)
    with engine.connect() as c:
        got = dict(c.execute(sa.text("SELECT type, reference FROM events")).all())
    assert got == {"purchase_order.acknowledged": "PO-1", "invoice.received": "INV-9", "shipment.noticed": None}
