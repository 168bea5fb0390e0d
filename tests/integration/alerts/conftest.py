"""A real SMTP server (aiosmtpd) and a real HTTP receiver for the alert webhook; a
partners folder whose demo partner names contacts."""

from __future__ import annotations

import shutil
import sys
import threading
from email import message_from_bytes, policy

import pytest
import yaml
from support import REPO, Receiver, free_port

import gateway.bootstrap as bootstrap_module
from gateway.bootstrap import bootstrap
from gateway.config import load_settings

WEBHOOK_SECRET = "alert-test-secret"


class Mailbox:
    """Every message the SMTP server accepted: (envelope recipients, parsed message)."""

    def __init__(self):
        self.messages: list[tuple[list[str], object]] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        with self.lock:
            self.messages.append((list(envelope.rcpt_tos), message_from_bytes(envelope.content,
                                                                               policy=policy.default)))
        return "250 OK"

    def to(self, address: str) -> list:
        with self.lock:
            return [m for rcpt, m in self.messages if address in rcpt]


@pytest.fixture
def smtp_server():
    controller_module = pytest.importorskip("aiosmtpd.controller")
    box = Mailbox()
    controller = controller_module.Controller(box, hostname="127.0.0.1", port=free_port())
    controller.start()
    box.url = f"smtp://127.0.0.1:{controller.port}"
    yield box
    controller.stop()


@pytest.fixture
def webhook_receiver():
    r = Receiver()
    r.secret = WEBHOOK_SECRET
    yield r
    r.stop()


@pytest.fixture
def alerting(rt, tmp_path, monkeypatch, smtp_server, webhook_receiver):
    """The runtime with SMTP and the webhook set, and contacts in the demo profile."""
    partners = tmp_path / "partners"
    shutil.copytree(REPO / "partners", partners)
    profile = partners / "demo" / "partner.yaml"
    data = yaml.safe_load(profile.read_text())
    data["contacts"] = [{"email": "edi@acme.example", "notify": ["rejected", "ack_overdue"]},
                        {"email": "ops@acme.example", "notify": ["certificate_expiring"]}]
    profile.write_text(yaml.safe_dump(data))
    other = partners / "otherco"  # a second partner, whose people never hear of demo's alerts
    other.mkdir()
    (other / "partner.yaml").write_text(yaml.safe_dump({
        **{k: v for k, v in data.items() if k not in ("xml", "contacts")}, "id": "otherco", "name": "Other Co",
        "x12": {"qualifier": "ZZ", "id": "OTHERCO"}, "contacts": [{"email": "edi@other.example"}]}))
    for name, value in {"GATEWAY_PARTNERS_DIR": str(partners), "GATEWAY_SMTP_URL": smtp_server.url,
                        "GATEWAY_ALERT_FROM": "gateway@buyer.example", "GATEWAY_CONSOLE_URL": "https://edi.buyer.example",
                        "GATEWAY_WEBHOOK_URL": webhook_receiver.url, "GATEWAY_WEBHOOK_SECRET": WEBHOOK_SECRET}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(bootstrap_module, "_runtime", None)
    return bootstrap(load_settings())


sys.path.insert(0, str(REPO / "tests" / "integration" / "transports"))  # as2_kit, for certificates
