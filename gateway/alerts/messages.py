"""The alert for each thing that happened: a stable key, a plain-language subject and
text, and the console page it points at. No IO: stored rows in, :class:`AlertDraft` out.

Text a partner sent (a file name, a finding) is cut to a safe length and stripped of
control characters before it goes into a subject line or a body."""

from __future__ import annotations

import re
from dataclasses import dataclass

from gateway.alerts.kinds import AlertKind

_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")
MAX_SUBJECT = 200
MAX_FINDINGS = 10


@dataclass(frozen=True)
class AlertDraft:
    key: str  # once per key, ever
    kind: AlertKind
    partner_id: str | None
    document_id: str | None
    subject: str
    body: str
    path: str  # the console page, e.g. /documents/doc_…


def clean(text: object, limit: int = 300) -> str:
    """One line of at most ``limit`` characters, no control characters."""
    text = _CONTROL.sub(" ", str(text or "")).strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _subject(text: str) -> str:
    return clean(text, MAX_SUBJECT)


def _findings(errors: list) -> list[str]:
    lines = []
    for e in (errors or [])[:MAX_FINDINGS]:
        if not isinstance(e, dict):
            continue
        where = " ".join(x for x in (e.get("segment_id"), f"#{e['segment_index']}" if e.get("segment_index") else "",
                                     e.get("element")) if x)
        message = clean(e.get("message"), 400)
        said = not where or (e.get("element") or e.get("segment_id") or "") in message  # the text names it already
        lines.append(f"- {message}" + ("" if said else f" (at {clean(where, 40)})"))
    if len(errors or []) > MAX_FINDINGS:
        lines.append(f"- … and {len(errors) - MAX_FINDINGS} more on the document page")
    return lines


def rejected(doc) -> AlertDraft:
    """A received document was rejected (``doc`` is a ``documents`` row)."""
    partner = doc.partner_id or "an unknown sender"
    body = [f"A document from {partner} was rejected and was not passed on.", "",
            f"File: {clean(doc.filename, 255)}", f"Received: {doc.received_at.isoformat(timespec='seconds')} "
            f"over {doc.channel}", f"Document id: {doc.id}", "", f"Why: {clean(doc.reason or 'rejected', 1000)}"]
    findings = _findings(list(doc.errors or []))
    if findings:
        body += ["", "What is wrong:", *findings]
    body += ["", "Next: the sender corrects the document and sends it again (support can also correct it, "
                 "or close it with a reason)."]
    return AlertDraft(f"rejected:{doc.id}", AlertKind.REJECTED, doc.partner_id, doc.id,
                      _subject(f"Rejected: {clean(doc.filename, 80)} from {partner}"), "\n".join(body),
                      f"/documents/{doc.id}")


def dead_letter(delivery, event) -> AlertDraft:
    """A delivery ran out of attempts (or was refused): ``delivery`` and its ``event`` rows."""
    body = [f"The {event.type} event from {event.partner_id or 'us'} could not be delivered to "
            f"{delivery.adapter} and is now a dead letter.", "",
            f"Attempts: {delivery.attempts}", f"Last error: {clean(delivery.last_error or 'none recorded', 1000)}",
            f"Delivery id: {delivery.id}", f"Document id: {event.document_id}", "",
            "Nothing is lost: replay it from the document page once the target is back "
            "(it keeps its idempotency key, so the target sees it once)."]
    return AlertDraft(f"dead_letter:{delivery.id}:{delivery.replays}", AlertKind.DEAD_LETTER, event.partner_id,
                      event.document_id,
                      _subject(f"Dead letter: {event.type} to {delivery.adapter} ({event.partner_id or 'no partner'})"),
                      "\n".join(body), f"/documents/{event.document_id}")


def certificate(row: dict) -> AlertDraft:
    """An AS2 certificate needs attention: a row of ``cert_monitor.expiry_report``."""
    whose = "our own" if row["kind"] == "own" else f"{row['partner_id']}'s"
    state = {"expiring": f"expires in {row.get('days_left')} days", "expired": "has expired",
             "not_yet_valid": "is not valid yet", "unreadable": "cannot be read"}.get(row["state"], row["state"])
    body = [f"The AS2 certificate {row['path']} ({whose}) {state}.", ""]
    if row.get("not_after"):
        body.append(f"Valid until: {row['not_after']}")
    if row.get("subject"):
        body.append(f"Subject: {clean(row['subject'])}")
    if row.get("error"):
        body.append(f"Error: {clean(row['error'])}")
    body += ["", "Exchange certificates with the partner before it expires, or AS2 messages will be refused."]
    version = row.get("fingerprint") or row.get("not_after") or "unreadable"
    partner = row["partner_id"] if row["kind"] == "partner" else None
    return AlertDraft(f"certificate:{row['path']}:{version}:{row['state']}"[:255], AlertKind.CERTIFICATE_EXPIRING,
                      partner, None, _subject(f"AS2 certificate {state}: {whose} ({row['path'].rsplit('/', 1)[-1]})"),
                      "\n".join(body), "/")


def ack_overdue(row) -> AlertDraft:
    """The partner's 997/999 for a document we sent is late (``outbound_documents`` row)."""
    body = [f"{row.partner_id} has not acknowledged the {row.transaction_set} we sent"
            + (f" for PO {clean(row.po_number, 80)}" if row.po_number else "") + ".", "",
            f"Interchange / group / set: {row.interchange_control_number} / {row.group_control_number} / "
            f"{row.transaction_control_number}",
            f"The 997/999 was due by {row.ack_due_at.isoformat(timespec='minutes')}.", "",
            "Check with the partner that it received the document; resend it if not."]
    return AlertDraft(f"ack_overdue:{row.id}", AlertKind.ACK_OVERDUE, row.partner_id, row.document_id,
                      _subject(f"Overdue 997/999: {row.transaction_set} to {row.partner_id}"
                               + (f" (PO {clean(row.po_number, 40)})" if row.po_number else "")),
                      "\n".join(body), f"/documents/{row.document_id}")
