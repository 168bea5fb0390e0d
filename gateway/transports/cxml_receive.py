"""cXML over HTTP, receiving: a partner POSTs a cXML request to ``/cxml`` and is answered
with a cXML ``Response`` whose Status says accepted or why not (the cXML 997).

Order of work:
1. parse hardened (:mod:`gateway.xml.parse`: no DTD loading, no entities, size and depth
   limits); what cannot be parsed is answered 400 and not stored (no one can be named
   as its sender);
2. authenticate: the partner is found by the From/Sender credential (its ``xml.cxml``
   ids), and ``Header/Sender/Credential/SharedSecret`` must equal its ``cxml`` shared
   secret (constant-time compare). Unknown sender or wrong secret: 401, logged on
   ``gateway.security``, nothing stored or processed;
3. a ``ProfileRequest`` (what do you take, and where?) is answered with a
   ``ProfileResponse``: each request we take, at this endpoint's URL; not stored, it
   carries no business content;
4. store: the bytes, with the SharedSecret's text replaced by a placeholder (a secret
   is no business content, and stored documents are shown to support and the partner),
   as a ``documents`` row, before anything is answered;
5. process at once, through the same pipeline as every other channel
   (:func:`gateway.processing.service.process`: kind, DTD when configured, partner,
   duplicates, test data, map, events and deliveries), and answer from its outcome:
   200 accepted (and 200 again for the same bytes: a duplicate, nothing delivered
   twice), 201 stored and processed by a worker (a document over the bulk threshold,
   or one a worker took first), 400 invalid with the finding, 406 a document
   kind we do not take, 409 a payloadID already used for other content, 500 our own
   failure (the document is kept and processed by a worker; sending it again is safe).

The answer is HTTP 200 with the status in the cXML body, as the cXML guide has it for
functional errors; only our own failure is also HTTP 500 (so a client that reads only
HTTP retries) and an oversized body HTTP 413.
"""

from __future__ import annotations

import hmac
import logging
import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from lxml import etree

from gateway.bootstrap import Runtime
from gateway.domain.partner import SecretUnavailable
from gateway.domain.status import DocumentStatus
from gateway.store.models import Document
from gateway.xml.findings import XmlErrorCode, XmlRejected
from gateway.xml.identity import describe, identify
from gateway.xml.kind import SUPPORTED, DocumentKind
from gateway.xml.parse import parse_document

log = logging.getLogger("gateway.cxml")
security = logging.getLogger("gateway.security")

STATUS_TEXT = {200: "OK", 201: "Accepted", 400: "Bad Request", 401: "Unauthorized", 406: "Not Acceptable",
               409: "Conflict", 413: "Request Entity Too Large", 500: "Internal Server Error"}
SECRET_PLACEHOLDER = b"[redacted by the gateway]"
_SECRET = re.compile(rb"(<SharedSecret\b[^>]*(?<!/)>)(.*?)(</SharedSecret\s*>)", re.DOTALL)
_FILENAME_SAFE = re.compile(r"[^A-Za-z0-9._@-]+")
# the rejection's first finding -> the cXML status that says why
REJECTION_STATUS = {XmlErrorCode.UNSUPPORTED_DOCUMENT.name: 406, XmlErrorCode.NOT_CXML_OR_UBL.name: 406,
                    XmlErrorCode.DUPLICATE_DOCUMENT_ID.name: 409, XmlErrorCode.TOO_LARGE.name: 413}


@dataclass(frozen=True)
class CxmlReply:
    http_status: int
    code: int  # the cXML Status code
    message: str
    document_id: str | None = None
    profile_url: str | None = None  # a ProfileResponse naming this URL for each kind we take

    def body(self, now: datetime | None = None) -> bytes:
        return response_document(self.code, self.message, now=now, profile_url=self.profile_url)


def response_document(code: int, message: str, *, now: datetime | None = None,
                      profile_url: str | None = None) -> bytes:
    """A cXML ``Response`` with its Status (sans-IO); with ``profile_url``, the
    ProfileResponse that answers a ProfileRequest: each request we take, posted there."""
    now = (now or datetime.now(UTC)).replace(microsecond=0)
    root = etree.Element("cXML", payloadID=f"{now:%Y%m%d%H%M%S}.{uuid.uuid4().hex}@gateway.cxml",
                         timestamp=now.isoformat())
    root.set("{http://www.w3.org/XML/1998/namespace}lang", "en-US")
    response = etree.SubElement(root, "Response")
    status = etree.SubElement(response, "Status", code=str(code), text=STATUS_TEXT.get(code, "Error"))
    status.text = message[:2000] or None
    if profile_url is not None:
        profile = etree.SubElement(response, "ProfileResponse", effectiveDate=now.isoformat())
        for name in SUPPORTED["cxml"]:
            etree.SubElement(etree.SubElement(profile, "Transaction", requestName=name), "URL").text = profile_url
    return etree.tostring(root.getroottree(), xml_declaration=True, encoding="UTF-8",
                          doctype='<!DOCTYPE cXML SYSTEM "http://xml.cxml.org/schemas/cXML/1.2.063/cXML.dtd">')


def _reply(code: int, message: str, document_id: str | None = None, http_status: int = 200) -> CxmlReply:
    return CxmlReply(http_status, code, message, document_id)


def handle_cxml(rt: Runtime, data: bytes, *, remote: str = "?", endpoint_url: str | None = None) -> CxmlReply:
    """Authenticate, store, process and answer one posted cXML document. A ProfileRequest
    (a partner asking what we take, and where) is answered with a ProfileResponse naming
    ``endpoint_url``, and not stored: it carries no business content."""
    try:
        root = parse_document(data, max_bytes=rt.settings.max_document_bytes)
    except XmlRejected as exc:
        finding = exc.findings[0]
        if finding.code is XmlErrorCode.TOO_LARGE:
            return _reply(413, finding.text(), http_status=413)
        return _reply(400, f"not a readable cXML document: {finding.text()}")
    if root.tag != "cXML":
        return _reply(400, f"not a cXML document: the root element is {etree.QName(root).localname!r}")
    partner, ids = identify(rt.partners, root, DocumentKind("cxml", "cXML", None))
    if partner is None or partner.cxml is None:
        security.warning("cXML from %s refused: no partner takes cXML as %r", remote, describe(ids)[:300])
        return _reply(401, "Unauthorized: the From/Sender credential names no partner that sends us cXML")
    try:
        expected = partner.cxml.shared_secret.read()
    except SecretUnavailable as exc:
        log.error("cXML from partner %s cannot be authenticated: %s", partner.id, exc)
        return _reply(500, "our side cannot check credentials at the moment (our configuration); "
                           "nothing was processed; send it again later", http_status=500)
    given = [(c.text or "").strip() for c in root.findall("Header/Sender/Credential/SharedSecret")]
    if not any(hmac.compare_digest(g.encode(), expected.encode()) for g in given):
        security.warning("cXML from %s as partner %s refused: %s", remote, partner.id,
                         "wrong SharedSecret" if given else "no SharedSecret in Header/Sender/Credential")
        return _reply(401, "Unauthorized: the Sender credential's SharedSecret is missing or wrong")
    request = root.find("Request")
    if request is not None and [c.tag for c in request if isinstance(c.tag, str)][:1] == ["ProfileRequest"]:
        if endpoint_url is None:
            return _reply(406, "ProfileRequest is not answered here")
        log.info("cXML ProfileRequest from partner %s answered", partner.id)
        return CxmlReply(200, 200, "", profile_url=endpoint_url)
    stored = _without_secret(data)
    if stored is None:
        return _reply(400, "the SharedSecret could not be kept out of storage: send the document in UTF-8")
    return _store_and_process(rt, partner.id, root, stored)


def _without_secret(data: bytes) -> bytes | None:
    """``data`` with every SharedSecret's content replaced; None if one would remain."""
    stored = _SECRET.sub(lambda m: m.group(1) + SECRET_PLACEHOLDER + m.group(3), data)
    try:
        check = parse_document(stored, max_bytes=len(stored) + 1)
    except XmlRejected:
        return None
    for element in check.iter("SharedSecret"):  # each is the placeholder, or was empty
        if len(element) or (element.text or "").encode() not in (SECRET_PLACEHOLDER, b""):
            return None
    return stored


def _store_and_process(rt: Runtime, partner_id: str, root: etree._Element, data: bytes) -> CxmlReply:
    from gateway.intake.receive import enqueue_processing, receive
    from gateway.processing.service import process

    request = root.find("Request")
    kind = next((c.tag for c in request if isinstance(c.tag, str)), "cXML") if request is not None else "cXML"
    name = _FILENAME_SAFE.sub("_", f"{kind}_{root.get('payloadID') or 'no-payloadID'}")[:200] + ".xml"
    big = len(data) > rt.settings.bulk_threshold_bytes  # minutes of work: a worker's, not this request's
    try:
        receipt = receive(rt, data, channel="cxml", filename=name, partner_id=partner_id, enqueue=big)
    except Exception:
        log.exception("cXML from partner %s could not be stored", partner_id)
        return _reply(500, "our side could not store the document; nothing was kept; send it again later",
                      http_status=500)
    doc_id = receipt.document_id
    if big:
        return _reply(201, f"stored as {doc_id}; it is processed by a worker (a large document)", doc_id)
    try:
        status = process(rt, doc_id)
    except Exception as exc:
        log.exception("cXML %s from partner %s stored, processing failed: %s", doc_id, partner_id, exc)
        enqueue_processing(rt, doc_id, len(data))  # a worker tries again from the stored bytes
        return _reply(500, f"stored as {doc_id}, but our processing failed; it is retried here, and sending "
                           "the same document again is safe", doc_id, http_status=500)
    return _answer(rt, doc_id, status)


def _answer(rt: Runtime, doc_id: str, status: str) -> CxmlReply:
    if status == "skipped":  # a worker took it first: it is stored and being processed
        return _reply(201, f"stored as {doc_id}; it is being processed", doc_id)
    with rt.session() as s:
        doc = s.get(Document, doc_id)
        reason, errors, duplicate_of = doc.reason, doc.errors or [], doc.duplicate_of
    if status == DocumentStatus.ACCEPTED:
        return _reply(200, f"accepted as {doc_id}" + (f" ({reason})" if reason else ""), doc_id)
    if status == DocumentStatus.DUPLICATE:
        return _reply(200, f"already received as {duplicate_of}: this copy ({doc_id}) is a duplicate and "
                           "nothing is delivered twice", doc_id)
    if status == DocumentStatus.REJECTED:
        code = REJECTION_STATUS.get(errors[0].get("code") if errors else None, 400)
        return _reply(code, (reason or "rejected")[:2000], doc_id)
    log.error("cXML %s ended %s: %s", doc_id, status, reason)
    return _reply(500, f"stored as {doc_id}, but our processing failed ({status}); it is not your document's "
                       "fault", doc_id, http_status=500)
