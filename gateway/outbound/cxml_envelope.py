"""The ``<cXML>`` envelope around a request we send: payloadID, timestamp, Header
credentials from the partner's ``cxml:`` settings, and ``Request@deploymentMode``.

Sans-IO. The Sender's SharedSecret is written as :data:`SECRET_PLACEHOLDER`: the stored
copy of what we sent never holds the secret; :func:`with_secret` puts it in the bytes
on their way out, and nowhere else.
"""

from __future__ import annotations

import re
from datetime import datetime
from xml.sax.saxutils import escape

from lxml import etree

from gateway.domain.partner import CxmlSettings
from gateway.outbound.cxml_map import XML_NS

SECRET_PLACEHOLDER = "[shared secret: written when sent]"
_SECRET_ELEMENT = f"<SharedSecret>{escape(SECRET_PLACEHOLDER)}</SharedSecret>".encode()
_HOST_SAFE = re.compile(r"[^A-Za-z0-9.-]+")


class SecretPlacementError(RuntimeError):
    """The stored document does not hold exactly one placeholder for the secret (our bug)."""


def payload_id(now: datetime, outbound_id: str, from_identity: str) -> str:
    """``<timestamp>.<our unique id>@<our identity>``: unique per document, as cXML asks."""
    host = _HOST_SAFE.sub("-", from_identity).strip("-").lower() or "gateway"
    return f"{now:%Y%m%d%H%M%S}.{outbound_id}@{host}.cxml"


def timestamp(now: datetime) -> str:
    """ISO 8601 with seconds and the UTC offset, e.g. ``2026-12-02T08:30:00+00:00``."""
    return now.replace(microsecond=0).isoformat()


def envelope(settings: CxmlSettings, body: etree._Element, *, payload_id: str, now: datetime) -> bytes:
    """The whole cXML document for ``body`` (e.g. an ``<OrderRequest>``), UTF-8, with its DOCTYPE."""
    root = etree.Element("cXML", payloadID=payload_id, timestamp=timestamp(now), version=settings.version)
    root.set(f"{{{XML_NS}}}lang", "en-US")
    header = etree.SubElement(root, "Header")
    for holder, (domain, identity) in (("From", settings.from_), ("To", settings.to), ("Sender", settings.sender)):
        credential = etree.SubElement(etree.SubElement(header, holder), "Credential", domain=domain)
        etree.SubElement(credential, "Identity").text = identity
        if holder == "Sender":
            etree.SubElement(credential, "SharedSecret").text = SECRET_PLACEHOLDER
            etree.SubElement(credential.getparent(), "UserAgent").text = settings.user_agent
    request = etree.SubElement(root, "Request", deploymentMode=settings.deployment_mode)
    request.append(body)
    doctype = f'<!DOCTYPE cXML SYSTEM "http://xml.cxml.org/schemas/cXML/{settings.version}/cXML.dtd">'
    return etree.tostring(root.getroottree(), xml_declaration=True, encoding="UTF-8", doctype=doctype)


def with_secret(document: bytes, secret: str) -> bytes:
    """``document`` with the placeholder replaced by ``secret`` (XML-escaped)."""
    if document.count(_SECRET_ELEMENT) != 1:
        raise SecretPlacementError("the stored cXML document has no single SharedSecret placeholder")
    return document.replace(_SECRET_ELEMENT, f"<SharedSecret>{escape(secret)}</SharedSecret>".encode())
