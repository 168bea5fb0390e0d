"""Is an uploaded file a whole document? (sans-IO)

A client cut off mid-transfer, or one that closes a file it has not finished, must not
get a half document into the pipeline. The check is deliberately about *completeness*
only, not validity (the pipeline rejects invalid documents visibly, with an ack):

* X12 (starts with ``ISA``): its last segment is an ``IEA``;
* XML (starts with ``<``): well-formed, parsed with entities, DTDs and network off;
* anything else: no way to tell, so it is accepted and the pipeline explains it.
"""

from __future__ import annotations

from lxml import etree

BOM = b"\xef\xbb\xbf"
_WHITESPACE = b" \t\r\n\x00"


def incomplete_reason(data: bytes) -> str | None:
    """None when ``data`` looks complete, else a sentence for the sender."""
    body = data[len(BOM):] if data.startswith(BOM) else data
    body = body.lstrip(_WHITESPACE)
    if body.startswith(b"ISA"):
        return _x12_reason(body)
    if body.startswith(b"<"):
        return _xml_reason(body)
    return None


def _x12_reason(body: bytes) -> str | None:
    if len(body) < 106:
        return "the X12 interchange is cut off inside its ISA segment"
    terminator = body[105:106]
    if terminator.isalnum():
        return None  # a broken ISA: let the pipeline explain it with a TA1
    segments = [s.strip(_WHITESPACE) for s in body.rstrip(_WHITESPACE).split(terminator)]
    segments = [s for s in segments if s]
    if not segments or not segments[-1].startswith(b"IEA"):
        return "the X12 interchange does not end with its IEA segment (the upload looks cut off)"
    if not body.rstrip(_WHITESPACE).endswith(terminator):
        return "the X12 interchange's IEA segment has no segment terminator (the upload looks cut off)"
    return None


def _xml_reason(body: bytes) -> str | None:
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False,
                             huge_tree=False, remove_pis=True)
    try:
        etree.fromstring(body, parser)
    except etree.XMLSyntaxError as exc:
        return f"the XML document is not well-formed ({exc.msg}); the upload looks cut off"
    return None
