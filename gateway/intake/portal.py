"""A document a partner uploads through the console's partner pages.

It takes the same road as an SFTP upload: the partner's own file-size limit
(``channels.sftp.max_file_bytes``, never above ``GATEWAY_MAX_DOCUMENT_BYTES``) and its
daily upload quota (shared with SFTP, so the portal is no way around it) are held, then
:func:`~gateway.intake.receive.receive` stores the bytes and queues them; the document
is validated and acknowledged (997/999/TA1 to the partner's own channel) as any other.
The receipt is returned only once the bytes are stored.
"""

from __future__ import annotations

import logging
import re

from gateway.bootstrap import Runtime
from gateway.intake.receive import Receipt, receive
from gateway.transports.sftp_limits import charge, refund

log = logging.getLogger("gateway.intake")
CHANNEL = "portal"
_UNSAFE = re.compile(r"[\x00-\x1f\x7f/\\]+")


class UploadRefused(ValueError):
    """The upload breaks a limit or carries nothing; ``status`` is the HTTP answer (400 or 413)."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.status = status


def clean_filename(name: str | None) -> str:
    """The last path part of a browser-sent file name, without control characters."""
    name = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = _UNSAFE.sub("_", name).strip(" .")
    return name[-255:] or "upload"


def max_upload_bytes(rt: Runtime, partner_id: str) -> int:
    profile = rt.partners[partner_id]
    return min(profile.sftp.max_file_bytes or rt.settings.max_document_bytes, rt.settings.max_document_bytes)


def receive_upload(rt: Runtime, partner_id: str, filename: str | None, data: bytes) -> Receipt:
    """Check the limits, charge the quota, store and queue; raises :class:`UploadRefused`."""
    if not data:
        raise UploadRefused("The file is empty: choose a document to upload.")
    limit = max_upload_bytes(rt, partner_id)
    if len(data) > limit:
        raise UploadRefused(f"The file is {len(data):,} bytes; the limit is {limit:,} bytes. Nothing was received.",
                            413)
    if not charge(rt, partner_id, len(data), rt.partners[partner_id].sftp.daily_quota_bytes):
        raise UploadRefused("The file is over what is left of today's upload quota. Nothing was received.", 413)
    name = clean_filename(filename)
    try:
        receipt = receive(rt, data, channel=CHANNEL, filename=name, partner_id=partner_id)
    except BaseException:
        try:
            refund(rt, partner_id, len(data))  # not stored: not counted either
        except Exception:  # the database is away: the partner is charged for a file it will resend
            log.exception("could not refund %s bytes to %s's quota", len(data), partner_id)
        raise
    log.info("portal upload %s from %s stored as %s", name, partner_id, receipt.document_id)
    return receipt
