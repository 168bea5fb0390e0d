"""Create a partner in the database and give it credentials.

A partner's profile has the shape of a ``partner.yaml`` (ids, channels, ack and
duplicate policy, test data) and is validated by the same schema; an id, an ISA sender
id, an AS2 id or a cXML identity another partner already uses is refused, since each
must name one partner. Its AS2 channel starts once a certificate is added; its SFTP
login once a public key is added.
"""

from __future__ import annotations

import copy

from marshmallow import ValidationError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from gateway.domain.partner import PARTNER_ID, PartnerProfile, _PartnerSchema
from gateway.onboarding.credentials import check_certificate, check_ssh_key
from gateway.onboarding.directory import bump_generation, file_partners, refresh
from gateway.onboarding.errors import Conflict, Invalid
from gateway.onboarding.map_versions import audit_change, require_partner
from gateway.store.models import SftpKey, utcnow
from gateway.store.models_onboarding import OnboardedPartner, PartnerCertificate

PLACEHOLDER_CERT = "(added after creation)"
SECRET_SHOWN = "(set)"  # what a stored SFTP password hash is shown as


def _problems(messages: object, at: str = "") -> list[dict]:
    if isinstance(messages, dict):
        return [p for key, sub in messages.items()
                for p in _problems(sub, at if key == "_schema" else f"{at}.{key}" if at else str(key))]
    if isinstance(messages, list) and all(isinstance(m, str) for m in messages):
        return [{"field": at or None, "message": m} for m in messages]
    if isinstance(messages, list):
        return [p for i, sub in enumerate(messages) for p in _problems(sub, f"{at}[{i}]")]
    return [{"field": at or None, "message": str(messages)}]


def check_profile(profile: object) -> dict:
    """The profile as stored (certificate files are not named: they are added later)."""
    if not isinstance(profile, dict):
        raise Invalid("the partner must be a JSON object shaped like partner.yaml")
    profile = copy.deepcopy(profile)
    as2 = (profile.get("channels") or {}).get("as2") if isinstance(profile.get("channels"), dict) else None
    if isinstance(as2, dict):
        if as2.get("certificates"):
            raise Invalid("certificates are added after creation, as PEM (POST .../certificates), not named here",
                          [{"field": "channels.as2.certificates", "message": "not accepted here"}])
        as2["certificates"] = [PLACEHOLDER_CERT]
    try:
        _PartnerSchema().load(profile)
    except ValidationError as exc:
        problems = _problems(exc.messages)
        raise Invalid("the partner is invalid: " + "; ".join(f"{p['field']}: {p['message']}" for p in problems[:6]),
                      problems) from None
    if isinstance(as2, dict):
        as2.pop("certificates")
    return profile


def _taken(partners: dict[str, PartnerProfile], profile: dict) -> str | None:
    x12 = profile["x12"]
    as2 = (profile.get("channels") or {}).get("as2") or {}
    cxml = {(c["domain"], c["identity"]) for c in ((profile.get("xml") or {}).get("cxml") or [])}
    for other in partners.values():
        if other.id == profile["id"]:
            continue  # itself, when it is changed
        if other.sends_as(x12["qualifier"], x12["id"]):
            return f"partner {other.id} already sends as {x12['qualifier']}/{x12['id']} (ISA05/ISA06)"
        if as2 and other.as2 is not None and other.as2.as2_id == as2.get("as2_id"):
            return f"partner {other.id} already has the AS2 id {as2['as2_id']!r}"
        if cxml & set(other.xml.cxml):
            return f"partner {other.id} already uses the cXML identity {sorted(cxml & set(other.xml.cxml))[0]}"
    return None


def create(rt, principal, profile: object, reason: str) -> PartnerProfile:
    profile = check_profile(profile)
    if not PARTNER_ID.match(profile["id"]):
        raise Invalid("id: lower-case letters, digits, '_' and '-'")
    refresh(rt)
    if profile["id"] in rt.partners:
        raise Conflict(f"there is already a partner {profile['id']!r}")
    taken = _taken(rt.partners, profile)
    if taken:
        raise Conflict(taken)
    try:
        with rt.session() as s:
            s.add(OnboardedPartner(id=profile["id"], name=profile["name"], profile=profile,
                                   created_by=principal.actor, created_at=utcnow()))
            bump_generation(s)
            audit_change(s, principal, "partner.create", f"partner:{profile['id']}", reason,
                         {"profile": profile})
    except IntegrityError:
        raise Conflict(f"there is already a partner {profile['id']!r}") from None
    refresh(rt)
    return rt.partners[profile["id"]]


def update(rt, principal, partner_id: str, profile: object, reason: str) -> PartnerProfile:
    """Replace the profile of a partner created here (its id stays). A partner kept in
    ``partners/`` is changed in its file."""
    require_partner(rt, partner_id)
    if partner_id in file_partners(rt):
        raise Conflict(f"partner {partner_id} is kept in partners/{partner_id}/partner.yaml: change it there")
    with rt.session() as s:
        stored = s.get(OnboardedPartner, partner_id).profile
    profile = check_profile(_keep_secrets(profile, stored))
    if profile["id"] != partner_id:
        raise Invalid("a partner's id cannot be changed", [{"field": "id", "message": "must stay " + partner_id}])
    taken = _taken(rt.partners, profile)
    if taken:
        raise Conflict(taken)
    with rt.session() as s:
        row = s.get(OnboardedPartner, partner_id)
        before = row.profile
        if before == profile:
            raise Conflict("nothing changed")
        row.profile, row.name = profile, profile["name"]
        bump_generation(s)
        audit_change(s, principal, "partner.update", f"partner:{partner_id}", reason,
                     {"before": before, "after": profile})
    refresh(rt)
    return rt.partners[partner_id]


def stored_profile(rt, partner_id: str) -> dict:
    """The stored profile of a partner created here (a copy)."""
    require_partner(rt, partner_id)
    with rt.session() as s:
        row = s.get(OnboardedPartner, partner_id)
        if row is None:
            raise Conflict(f"partner {partner_id} is kept in partners/{partner_id}/partner.yaml: change it there")
        return copy.deepcopy(row.profile)


def add_certificate(rt, principal, partner_id: str, pem: object, reason: str) -> PartnerCertificate:
    profile = require_partner(rt, partner_id)
    if not isinstance(pem, str):
        raise Invalid("certificate must be PEM text")
    checked = check_certificate(pem)
    onboarded = partner_id not in file_partners(rt)
    if profile.as2 is None and not onboarded:
        raise Conflict(f"partner {partner_id} has no AS2 channel in its partner.yaml")
    with rt.session() as s:
        if onboarded and s.get(OnboardedPartner, partner_id).profile.get("channels", {}).get("as2") is None:
            raise Conflict(f"partner {partner_id} has no AS2 channel")
        if s.scalar(select(PartnerCertificate.id).where(PartnerCertificate.partner_id == partner_id,
                                                        PartnerCertificate.sha256 == checked.sha256)):
            raise Conflict("this certificate was already added")
        row = PartnerCertificate(partner_id=partner_id, pem=checked.pem, sha256=checked.sha256,
                                 subject=checked.subject, not_before=checked.not_before,
                                 not_after=checked.not_after, added_by=principal.actor, added_at=utcnow())
        s.add(row)
        bump_generation(s)
        audit_change(s, principal, "partner.certificate.add", f"partner:{partner_id}", reason,
                     {"sha256": checked.sha256, "subject": checked.subject,
                      "not_after": checked.not_after.isoformat()})
        s.flush()
        s.expunge(row)
    refresh(rt)
    return row


def add_sftp_key(rt, principal, partner_id: str, line: object, reason: str) -> SftpKey:
    from gateway.transports.sftp_auth import fingerprint

    require_partner(rt, partner_id)
    if not isinstance(line, str):
        raise Invalid("key must be one OpenSSH public key line")
    key, comment = check_ssh_key(line)
    fp = fingerprint(key)
    with rt.session() as s:
        if s.scalar(select(SftpKey.id).where(SftpKey.partner_id == partner_id, SftpKey.fingerprint == fp)):
            raise Conflict(f"key {fp} was already added")
        row = SftpKey(partner_id=partner_id, key_type=key.get_name(), key_data=key.get_base64(), fingerprint=fp,
                      comment=comment, added_at=utcnow())
        s.add(row)
        audit_change(s, principal, "partner.sftp_key.add", f"partner:{partner_id}", reason,
                     {"fingerprint": fp, "key_type": key.get_name()})
        s.flush()
        s.expunge(row)
    return row


def describe(rt, partner_id: str) -> dict:
    """A partner as the API and the console show it."""
    profile = require_partner(rt, partner_id)
    with rt.session() as s:
        row = s.get(OnboardedPartner, partner_id)
        keys = list(s.scalars(select(SftpKey).where(SftpKey.partner_id == partner_id).order_by(SftpKey.id)))
        certs = list(s.scalars(select(PartnerCertificate).where(PartnerCertificate.partner_id == partner_id)
                               .order_by(PartnerCertificate.id)))
        out = summary(profile, row)
        out.update(
            profile=_without_secrets(row.profile) if row else None,
            sftp_keys=[{"fingerprint": k.fingerprint, "key_type": k.key_type, "comment": k.comment,
                        "added_at": k.added_at.isoformat() if k.added_at else None} for k in keys],
            certificates=[{"sha256": c.sha256, "subject": c.subject, "not_before": c.not_before.isoformat(),
                           "not_after": c.not_after.isoformat(), "added_by": c.added_by,
                           "added_at": c.added_at.isoformat()} for c in certs],
        )
    if profile.as2 is not None:
        out["as2"]["certificate_files"] = [p.name for p in profile.as2.certificates]
    return out


def _keep_secrets(profile: object, stored: dict) -> object:
    """A profile sent back as it was shown keeps the stored password hash."""
    sftp = ((profile.get("channels") or {}).get("sftp") if isinstance(profile, dict)
            and isinstance(profile.get("channels"), dict) else None)
    if isinstance(sftp, dict) and sftp.get("password_hash") == SECRET_SHOWN:
        profile = copy.deepcopy(profile)
        profile["channels"]["sftp"]["password_hash"] = ((stored.get("channels") or {}).get("sftp")
                                                        or {}).get("password_hash")
    return profile


def _without_secrets(profile: dict) -> dict:
    """The profile as shown: an SFTP password hash is never sent back."""
    shown = copy.deepcopy(profile)
    sftp = (shown.get("channels") or {}).get("sftp")
    if isinstance(sftp, dict) and "password_hash" in sftp:
        sftp["password_hash"] = SECRET_SHOWN
    return shown


def summary(profile: PartnerProfile, row: OnboardedPartner | None = None) -> dict:
    return {
        "id": profile.id, "name": profile.name, "source": "database" if row is not None else "file",
        "created_by": row.created_by if row else None,
        "created_at": row.created_at.isoformat() if row else None,
        "x12": {"qualifier": profile.x12.qualifier, "id": profile.x12.id, "group_ids": list(profile.x12.group_ids),
                "ack": profile.x12.ack},
        "our_x12": {"qualifier": profile.our_x12.qualifier, "id": profile.our_x12.id},
        "control_number_reuse": profile.control_number_reuse, "test_data": profile.test_data,
        "as2": {"as2_id": profile.as2.as2_id} if profile.as2 else None,
        "cxml": [{"domain": d, "identity": i} for d, i in profile.xml.cxml],
    }


def list_partners(rt) -> list[dict]:
    refresh(rt)
    with rt.session() as s:
        rows = {r.id: r for r in s.scalars(select(OnboardedPartner))}
    return [summary(p, rows.get(p.id)) for _, p in sorted(rt.partners.items())]
