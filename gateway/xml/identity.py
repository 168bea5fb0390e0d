"""Who sent an XML document: the sender's ids, matched against the partner profiles.

cXML names its sender in ``Header/From/Credential`` (``domain`` + ``Identity``), and the
party that transmitted it in ``Header/Sender/Credential``; From is tried first, then
Sender (a network hub may send on the partner's behalf). UBL names parties by role,
so the sending party depends on the document (table below); its ids are
``cac:Party/cbc:EndpointID`` and ``cac:Party/cac:PartyIdentification/cbc:ID``, each
with an optional ``schemeID``. A profile lists these ids under ``xml:`` in its
``partner.yaml``. Sans-IO: elements and profiles in, a profile (or None) out.
"""

from __future__ import annotations

from dataclasses import dataclass

from lxml import etree

from gateway.domain.partner import PartnerProfile
from gateway.xml.kind import DocumentKind

CAC = "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
CBC = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"
NS = {"cac": CAC, "cbc": CBC}

# The party that sends each UBL document (UBL 2.1 document roles).
UBL_SENDER_PARTY = {
    "Order": "cac:BuyerCustomerParty",
    "OrderResponse": "cac:SellerSupplierParty",
    "OrderResponseSimple": "cac:SellerSupplierParty",
    "DespatchAdvice": "cac:DespatchSupplierParty",
    "Invoice": "cac:AccountingSupplierParty",
}


@dataclass(frozen=True)
class SenderId:
    scheme: str | None  # cXML credential domain, UBL schemeID
    value: str
    where: str  # e.g. "From", "Sender", "cac:AccountingSupplierParty"

    def __str__(self) -> str:
        return f"{self.scheme}:{self.value}" if self.scheme else self.value


def sender_ids(root: etree._Element, kind: DocumentKind) -> list[SenderId]:
    """The ids the document gives for its sender, most authoritative first."""
    if kind.standard == "cxml":
        return [SenderId(c.get("domain"), (c.findtext("Identity") or "").strip(), holder)
                for holder in ("From", "Sender") for c in root.findall(f"Header/{holder}/Credential")
                if (c.findtext("Identity") or "").strip()]
    role = UBL_SENDER_PARTY.get(kind.name)
    if role is None:
        return []
    found = []
    for el in root.xpath(f"{role}/cac:Party/cbc:EndpointID | {role}/cac:Party/cac:PartyIdentification/cbc:ID",
                         namespaces=NS):
        if (el.text or "").strip():
            found.append(SenderId(el.get("schemeID"), el.text.strip(), role))
    return found


def matches(profile: PartnerProfile, sender: SenderId, standard: str) -> bool:
    if standard == "cxml":
        return any(sender.scheme is not None and sender.scheme.lower() == domain.lower() and sender.value == identity
                   for domain, identity in profile.xml.cxml)
    return any(sender.value == value and (scheme is None or sender.scheme is None or scheme == sender.scheme)
               for scheme, value in profile.xml.ubl)


def identify(partners: dict[str, PartnerProfile], root: etree._Element,
             kind: DocumentKind) -> tuple[PartnerProfile | None, list[SenderId]]:
    """The profile whose XML ids name the sender (first id that matches wins), and the ids read."""
    ids = sender_ids(root, kind)
    for sender in ids:
        for profile in partners.values():
            if matches(profile, sender, kind.standard):
                return profile, ids
    return None, ids


def describe(ids: list[SenderId]) -> str:
    if not ids:
        return "no sender id at all"
    return ", ".join(f"{s.where} {s}" for s in ids[:4])
