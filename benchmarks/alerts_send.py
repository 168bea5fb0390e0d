"""Alerts benchmark: what recording an alert adds to the transaction that causes it, and
how fast the sender drains alerts to a local SMTP server (aiosmtpd).

    python benchmarks/alerts_send.py [--alerts 200] [--users 3]

SQLite in a temporary GATEWAY_HOME; each alert has the demo partner's contact plus
``--users`` support users with an e-mail as recipients. Reports the median time of
``record_alert`` inside one transaction each (as a rejection does), and the wall time of
``send_due_alerts`` rounds until nothing is due (one SMTP connection per message).
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--alerts", type=int, default=200)
    ap.add_argument("--users", type=int, default=3)
    args = ap.parse_args()
    from aiosmtpd.controller import Controller

    class Sink:
        count = 0

        async def handle_DATA(self, server, session, envelope):  # noqa: N802
            Sink.count += len(envelope.rcpt_tos)
            return "250 OK"

    home = Path(tempfile.mkdtemp(prefix="gw-alerts-bench-"))
    partners = home / "partners"
    shutil.copytree(REPO / "partners", partners)
    with open(partners / "demo" / "partner.yaml", "a") as f:
        f.write("contacts: [{email: edi@acme.example}]\n")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(Sink(), hostname="127.0.0.1", port=port)
    controller.start()
    os.environ.update(GATEWAY_HOME=str(home), GATEWAY_PARTNERS_DIR=str(partners),
                      GATEWAY_SMTP_URL=f"smtp://127.0.0.1:{port}")
    from gateway.alerts.kinds import AlertKind
    from gateway.alerts.messages import AlertDraft
    from gateway.alerts.record import record_alert
    from gateway.alerts.send import send_due_alerts
    from gateway.bootstrap import bootstrap
    from gateway.config import load_settings
    from gateway.store.migrate import upgrade
    from gateway.web.users import create_user

    settings = load_settings()
    upgrade(settings.database_url)
    rt = bootstrap(settings)
    for i in range(args.users):
        create_user(rt, f"support{i}", "correct horse battery staple", "support", email=f"s{i}@buyer.example")
    timings = []
    for i in range(args.alerts):
        draft = AlertDraft(f"bench:{i}", AlertKind.REJECTED, "demo", None, f"Rejected: file{i}.edi from demo",
                           "A document from demo was rejected.\n\nWhy: ACK05 is not a valid date", "/")
        t0 = time.perf_counter()
        with rt.session() as s:
            record_alert(rt, s, draft)
        timings.append(time.perf_counter() - t0)
    t0 = time.perf_counter()
    sent = 0
    while (round_ := send_due_alerts(rt, limit=500))["sent"]:
        sent += round_["sent"]
    elapsed = time.perf_counter() - t0
    controller.stop()
    shutil.rmtree(home, ignore_errors=True)
    print(f"record_alert (own transaction, {args.users + 1} recipients): median "
          f"{statistics.median(timings) * 1000:.2f} ms, p95 {sorted(timings)[int(len(timings) * .95)] * 1000:.2f} ms")
    print(f"sent {sent} e-mails ({Sink.count} accepted by the SMTP server) in {elapsed:.2f} s: "
          f"{sent / elapsed:.0f} per second")


if __name__ == "__main__":
    main()
