"""Real HTTP on both sides: the gateway's Flask app on a werkzeug server, and a supplier's
cXML endpoint (a ThreadingHTTPServer) that answers each POST from a script and keeps
every request it got."""

from __future__ import annotations

import ssl
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from werkzeug.serving import make_server

from gateway.web.app import create_app

SECRET = "s3cr3t-for-tests-only"
SECRET_ENV = "CXML_TEST_SHARED_SECRET"


def cxml_response(code: int, text: str, message: str = "") -> bytes:
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE cXML SYSTEM "http://xml.cxml.org/schemas/cXML/'
            f'1.2.063/cXML.dtd">\n<cXML payloadID="1.2@supplier.example" timestamp="2026-12-02T10:00:00+00:00">'
            f'<Response><Status code="{code}" text="{text}">{message}</Status></Response></cXML>').encode()


class Gateway:
    def __init__(self, rt):
        self.server = make_server("127.0.0.1", 0, create_app(rt), threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()


class Supplier:
    """``answers``: (HTTP status, headers, body) per POST, in order; the last repeats. A
    header ``Content-Length: none`` sends the body without a length (ended by closing);
    ``X-Stall: <seconds>`` waits that long before answering."""

    def __init__(self, answers, tls_dir=None):
        self.answers, self.requests, self.released = list(answers), [], threading.Event()
        supplier = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                supplier.requests.append((self.path, dict(self.headers.items()), body))
                status, headers, answer = supplier.answers[min(len(supplier.requests), len(supplier.answers)) - 1]
                if "X-Stall" in headers:
                    supplier.released.wait(float(headers["X-Stall"]))
                self.send_response(status)
                for k, v in headers.items():
                    if k != "Content-Length":
                        self.send_header(k, v)
                if headers.get("Content-Length") != "none":
                    self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        scheme = "http"
        if tls_dir is not None:  # HTTPS with a self-signed certificate no CA vouches for
            key, cert = tls_dir / "supplier.key", tls_dir / "supplier.crt"
            subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj",
                            "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key),
                            "-out", str(cert)], check=True, capture_output=True, timeout=60)
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(cert, key)
            self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
            scheme = "https"
        self.url = f"{scheme}://127.0.0.1:{self.server.server_port}/cxml/orders"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.released.set()
        self.server.shutdown()


def cxml_profile(order_url: str | None) -> dict:
    """The demo partner's ``cxml:`` block for these tests (the secret read from SECRET_ENV)."""
    return {"order_url": order_url, "from": {"domain": "NetworkId", "identity": "BUYERCO"},
            "to": {"domain": "NetworkId", "identity": "ACMESUPPLY"}, "shared_secret_env": SECRET_ENV,
            "timeout": 2, "max_attempts": 3, "max_response_bytes": 4096}
