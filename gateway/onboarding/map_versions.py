"""A partner's map versions: upload (validated), list, activate from a dry-run, roll back.

Versions are kept per partner and document type (``x12-855-004010``), numbered from 1,
never changed once stored. A map kept in the repository (``partners/<id>/maps/``) is
imported as version 1 (``source: file``; it is read from its file while active), so
both ways of keeping maps work side by side. Activating an uploaded version overrides
the file map for that partner and document type in every process on its next job.

Activation names the dry-run it was decided on: a dry-run of another version, one
compared against a version that is no longer the active one, or one older than
:data:`DRY_RUN_MAX_AGE` is refused, and so is one that makes documents fail unless the
caller says it accepts that.
"""

from __future__ import annotations

import hashlib
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from gateway.onboarding.directory import bump_generation, file_partners, refresh
from gateway.onboarding.errors import Conflict, Invalid, NotFound
from gateway.onboarding.file_maps import import_file_maps as record_file_maps
from gateway.onboarding.map_checks import check_map, document_type
from gateway.store.models import utcnow
from gateway.store.models_onboarding import ActiveMap, MapDryRun, MapVersion

DRY_RUN_MAX_AGE = timedelta(hours=24)
MAX_NOTE_CHARS = 2000


def audit_change(s, principal, action: str, target: str, reason: str | None, details: dict) -> None:
    from gateway.web.auth import audit_entry

    s.add(audit_entry(principal, action, target, reason=reason, details=details))


def require_partner(rt, partner_id: str):
    refresh(rt)
    profile = rt.partners.get(partner_id)
    if profile is None:
        raise NotFound(f"no partner {partner_id[:64]!r}")
    return profile


def import_file_maps(rt, partner_id: str) -> None:
    """The repository's maps of ``partner_id`` recorded as versions (see :mod:`.file_maps`)."""
    record_file_maps(rt, file_partners(rt).get(partner_id))


def upload(rt, principal, partner_id: str, filename: str, content: str, reason: str) -> MapVersion:
    """Store a new version after checking it loads as a map; nothing is activated."""
    require_partner(rt, partner_id)
    loaded = check_map(rt.settings.home, partner_id, filename, content)
    doc_type = document_type(loaded)
    import_file_maps(rt, partner_id)
    sha = hashlib.sha256(content.encode()).hexdigest()
    with rt.session() as s:
        same = s.scalar(select(MapVersion).where(MapVersion.partner_id == partner_id,
                                                 MapVersion.document_type == doc_type, MapVersion.sha256 == sha))
        if same is not None:
            raise Conflict(f"this map is the same as version {same.version} of {doc_type} (id {same.id})")
        number = (s.scalar(select(func.max(MapVersion.version)).where(
            MapVersion.partner_id == partner_id, MapVersion.document_type == doc_type)) or 0) + 1
        version = MapVersion(partner_id=partner_id, document_type=doc_type, version=number, filename=filename,
                             content=content, sha256=sha, source="upload", note=reason[:MAX_NOTE_CHARS],
                             created_by=principal.actor, created_at=utcnow())
        s.add(version)
        s.flush()
        audit_change(s, principal, "map.upload", f"partner:{partner_id}", reason,
               {"map_version_id": version.id, "document_type": doc_type, "version": number, "sha256": sha,
                "filename": filename})
        s.expunge(version)
    return version


def get_version(rt, partner_id: str, version_id: int) -> MapVersion:
    with rt.session() as s:
        version = s.get(MapVersion, version_id)
        if version is None or version.partner_id != partner_id:
            raise NotFound(f"partner {partner_id!r} has no map version {version_id}")
        s.expunge(version)
    return version


def versions(rt, partner_id: str) -> list[dict]:
    """``[{document_type, active_version_id, previous_version_id, versions: [...]}]``."""
    require_partner(rt, partner_id)
    import_file_maps(rt, partner_id)
    with rt.session() as s:
        active = {a.document_type: a for a in s.scalars(select(ActiveMap).where(ActiveMap.partner_id == partner_id))}
        rows = list(s.scalars(select(MapVersion).where(MapVersion.partner_id == partner_id)
                              .order_by(MapVersion.document_type, MapVersion.version.desc())))
        out: dict[str, dict] = {}
        for v in rows:
            a = active.get(v.document_type)
            group = out.setdefault(v.document_type, {
                "document_type": v.document_type, "active_version_id": a.map_version_id if a else None,
                "previous_version_id": a.previous_version_id if a else None,
                "activated_by": a.activated_by if a else None,
                "activated_at": a.activated_at.isoformat() if a else None, "versions": []})
            group["versions"].append(version_summary(v, active=a is not None and a.map_version_id == v.id))
    return list(out.values())


def version_summary(v: MapVersion, active: bool | None = None) -> dict:
    out = {"id": v.id, "partner_id": v.partner_id, "document_type": v.document_type, "version": v.version,
           "filename": v.filename, "sha256": v.sha256, "source": v.source, "note": v.note,
           "created_by": v.created_by, "created_at": v.created_at.isoformat()}
    if active is not None:
        out["active"] = active
    return out


def active_version_id(s, partner_id: str, doc_type: str) -> int | None:
    return s.scalar(select(ActiveMap.map_version_id).where(ActiveMap.partner_id == partner_id,
                                                          ActiveMap.document_type == doc_type))


def _locked_active(s, partner_id: str, doc_type: str) -> ActiveMap | None:
    """The active-version row, locked until commit: two activations at once cannot both
    pass the dry-run's staleness check (PostgreSQL; SQLite has one writer anyway)."""
    return s.scalar(select(ActiveMap).where(ActiveMap.partner_id == partner_id, ActiveMap.document_type == doc_type)
                    .with_for_update())


def activate(rt, principal, partner_id: str, version_id: int, dry_run_id: str, reason: str, *,
             accept_failures: bool = False) -> dict:
    """Make ``version_id`` the partner's map for its document type, on the strength of
    the dry-run ``dry_run_id`` (see the module's rules)."""
    require_partner(rt, partner_id)
    import_file_maps(rt, partner_id)
    try:
        details = _activate(rt, principal, partner_id, version_id, dry_run_id, reason, accept_failures)
    except IntegrityError:  # the first activation of this document type, twice at the same moment
        raise Conflict("another activation of this document type happened at the same moment; "
                       "look at the versions and run the dry-run again") from None
    refresh(rt)
    return details


def _activate(rt, principal, partner_id, version_id, dry_run_id, reason, accept_failures) -> dict:
    with rt.session() as s:
        version = s.get(MapVersion, version_id)
        if version is None or version.partner_id != partner_id:
            raise NotFound(f"partner {partner_id!r} has no map version {version_id}")
        run = s.get(MapDryRun, dry_run_id) if isinstance(dry_run_id, str) and dry_run_id else None
        if run is None or run.partner_id != partner_id:
            raise Invalid("activation needs the id of a dry-run of this version (run one and look at it first)")
        if run.map_version_id != version.id:
            raise Conflict(f"dry-run {run.id} is of map version {run.map_version_id}, not {version.id}: "
                           "activate from a dry-run of the version being activated")
        current = _locked_active(s, partner_id, version.document_type)
        current_id = current.map_version_id if current else None
        if current_id == version.id:
            raise Conflict(f"version {version.version} of {version.document_type} is already active")
        if run.baseline_version_id != current_id:
            raise Conflict(f"dry-run {run.id} is stale: it compared against version id {run.baseline_version_id}, "
                           f"but version id {current_id} is active now; run it again")
        if utcnow() - run.created_at > DRY_RUN_MAX_AGE:
            raise Conflict(f"dry-run {run.id} is stale: it is older than {DRY_RUN_MAX_AGE}; run it again")
        failing = run.summary.get("newly_fails", 0)
        if failing and not accept_failures:
            raise Conflict(f"dry-run {run.id} shows {failing} document(s) that would newly fail; "
                           "fix the map, or activate with accept_failures if that is intended")
        if current is None:
            current = ActiveMap(partner_id=partner_id, document_type=version.document_type)
            s.add(current)
        current.previous_version_id, current.map_version_id = current_id, version.id
        current.dry_run_id, current.activated_by, current.activated_at = run.id, principal.actor, utcnow()
        bump_generation(s)
        details = {"map_version_id": version.id, "version": version.version, "document_type": version.document_type,
                   "dry_run_id": run.id, "previous_version_id": current_id, "summary": run.summary}
        audit_change(s, principal, "map.activate", f"partner:{partner_id}", reason, details)
    return details


def rollback(rt, principal, partner_id: str, doc_type: str, reason: str) -> dict:
    """Reactivate the version that was active before the current one (rolling back again
    returns to the version rolled back from)."""
    require_partner(rt, partner_id)
    with rt.session() as s:
        current = _locked_active(s, partner_id, doc_type)
        if current is None:
            raise NotFound(f"partner {partner_id!r} has no active map for {doc_type[:64]!r}")
        if current.previous_version_id is None:
            raise Conflict(f"{doc_type}: there is no earlier version to go back to")
        back_to, rolled_back = current.previous_version_id, current.map_version_id
        current.map_version_id, current.previous_version_id = back_to, rolled_back
        current.dry_run_id, current.activated_by, current.activated_at = None, principal.actor, utcnow()
        bump_generation(s)
        number = s.get(MapVersion, back_to).version
        details = {"document_type": doc_type, "map_version_id": back_to, "version": number,
                   "rolled_back_version_id": rolled_back}
        audit_change(s, principal, "map.rollback", f"partner:{partner_id}", reason, details)
    refresh(rt)
    return details
