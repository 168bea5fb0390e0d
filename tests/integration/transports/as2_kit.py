"""A partner's side of AS2 for tests: its own organization and keys (made here, never
committed), a gateway runtime with that partner configured, and a real HTTP server."""

from __future__ import annotations

import textwrap
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import requests
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from gateway.bootstrap import bootstrap
from gateway.config import load_settings
from gateway.store.migrate import upgrade
from gateway.transports.as2_certs import make_self_signed, write_private
from gateway.transports.as2_compat import Mdn, Message, Organization, Partner
from gateway.transports.as2_receive import raw_message
from gateway.web.app import create_app

OUR_ID = "BUYERCO"


@dataclass
class Keys:
    key_pem: bytes
    cert_pem: bytes

    @property
    def pair(self) -> bytes:
        return self.key_pem + self.cert_pem


def new_keys(name: str, **kw) -> Keys:
    return Keys(*make_self_signed(name, key_size=2048, **kw))


def write_partner(partners_dir: Path, pid: str, as2_id: str, certs: list[bytes], **as2) -> None:
    folder = partners_dir / pid
    (folder / "certs").mkdir(parents=True, exist_ok=True)
    names = []
    for i, pem in enumerate(certs):
        (folder / "certs" / f"cert{i}.pem").write_bytes(pem)
        names.append(f"certs/cert{i}.pem")
    extra = "".join(f"    {k}: {str(v).lower() if isinstance(v, bool) else v}\n" for k, v in as2.items())
    (folder / "partner.yaml").write_text(textwrap.dedent(f"""\
        id: {pid}
        name: {pid} test partner
        x12: {{qualifier: ZZ, id: {pid.upper()}}}
        our_x12: {{qualifier: ZZ, id: BUYERCO}}
        channels:
          as2:
            as2_id: {as2_id}
            certificates: [{", ".join(names)}]
        """) + extra)


def make_runtime(home: Path, partners_dir: Path, database_url: str, redis_url: str | None, our_keys: list[Keys],
                 **extra):
    for i, keys in enumerate(our_keys):
        write_private(home / "keys" / "as2" / f"ours{i}.pem", keys.pair)
    settings = load_settings({"GATEWAY_HOME": str(home), "DATABASE_URL": database_url,
                              "REDIS_URL": redis_url or "", "GATEWAY_PARTNERS_DIR": str(partners_dir)})
    settings = settings.with_overrides(extra={"GATEWAY_AS2_ID": OUR_ID, **{k: str(v) for k, v in extra.items()}})
    upgrade(settings.database_url)
    return bootstrap(settings)


class Server:
    """The gateway's Flask app on a real werkzeug server (threaded), on a free port."""

    def __init__(self, rt):
        self.server = make_server("127.0.0.1", 0, create_app(rt), threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}/as2"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()


class MdnCatcher:
    """The partner's async-MDN URL: records every POST (raw headers and body)."""

    def __init__(self):
        self.received: list[bytes] = []
        self.event = threading.Event()
        catcher = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                catcher.received.append(raw_message(list(self.headers.items()), body))
                catcher.event.set()
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/mdn"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()


class Listener:
    """A real HTTP listener that records every request (method, path) whatever its verb;
    with ``redirect_to`` it answers each with a 302 there. Stands in for an internal
    address that must get nothing, or for a redirecting URL that must not be followed."""

    def __init__(self, redirect_to: str | None = None):
        self.requests: list[tuple[str, str]] = []
        listener = self

        class Handler(BaseHTTPRequestHandler):
            def _any(self):
                length = int(self.headers.get("Content-Length", 0) or 0)
                if length:
                    self.rfile.read(length)
                listener.requests.append((self.command, self.path))
                self.send_response(302 if redirect_to else 200)
                if redirect_to:
                    self.send_header("Location", redirect_to)
                self.send_header("Content-Length", "0")
                self.end_headers()

            do_GET = do_POST = do_PUT = do_HEAD = _any  # noqa: N815

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/internal"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()


def partner_message(org_keys: Keys, as2_id: str, our_cert: bytes, data: bytes, *, sign=True, encrypt=True,
                    compress=False, mdn="SYNC", mdn_url=None, to=OUR_ID, filename="po.edi", enc_alg="aes_256_cbc",
                    digest_alg="sha256") -> Message:
    """What the partner's AS2 software sends us (pyas2lib as the client)."""
    org = Organization(as2_name=as2_id, sign_key=org_keys.pair, decrypt_key=org_keys.pair, mdn_url=mdn_url,
                       domain="partner.test")
    us = Partner(as2_name=to, verify_cert=our_cert, encrypt_cert=our_cert, sign=sign, encrypt=encrypt,
                 compress=compress, enc_alg=enc_alg, digest_alg=digest_alg, mdn_mode=mdn,
                 mdn_digest_alg="sha256" if mdn else None)
    msg = Message(sender=org, receiver=us)
    msg.build(data, filename=filename, content_type="application/edi-x12")
    return msg


def verify_mdn(msg: Message, headers, body: bytes) -> tuple[str, str | None, Mdn]:
    """The partner checks our MDN: signature, original Message-ID and MIC."""
    mdn = Mdn()
    status, detail = mdn.parse(raw_message(list(headers), body), find_message_cb=lambda _m, _r: msg)
    return status, detail, mdn


class PartnerAs2Server:
    """The partner's AS2 software: decrypts and verifies what we send, answers with a
    signed MDN (sync, or posted back to us for async)."""

    def __init__(self, keys, our_cert: bytes, port: int | None = None, mdn_before_answer: bool = False):
        """``mdn_before_answer``: post the async MDN back *before* answering our POST, as a
        fast partner may (our POST has not returned when the MDN arrives)."""
        self.received: list[bytes] = []
        self.messages: list[Message] = []  # parsed, as the partner's software holds them
        org = Organization(as2_name="ACME-AS2", sign_key=keys.pair, decrypt_key=keys.pair, domain="partner.test")
        us = Partner(as2_name=OUR_ID, verify_cert=our_cert, encrypt_cert=our_cert, sign=True, encrypt=True)

        @Request.application
        def app(request):
            raw = "".join(f"{k}: {v}\r\n" for k, v in request.headers.items()).encode() + b"\r\n" + request.get_data()
            msg = Message()
            status, _exc, mdn = msg.parse(raw, find_org_partner_cb=lambda _t, _f: (org, us))
            if status == "processed":
                self.received.append(msg.content)
                self.messages.append(msg)
            if mdn is None:
                return Response("", 200)
            if mdn.mdn_mode == "ASYNC" and mdn_before_answer:
                requests.post(mdn.mdn_url, data=mdn.content, headers=mdn.headers, timeout=60)
                return Response("", 200)
            if mdn.mdn_mode == "ASYNC":
                threading.Thread(target=lambda: requests.post(mdn.mdn_url, data=mdn.content, headers=mdn.headers,
                                                              timeout=60)).start()
                return Response("", 200)
            return Response(mdn.content, 200, headers=mdn.headers)

        self.server = make_server("127.0.0.1", port or 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}/as2"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()
