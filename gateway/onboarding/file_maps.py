"""Maps kept as files in ``partners/<id>/maps/``, recorded as map versions.

The first time a process looks (its first job or request, and whenever versions are
listed), each file map becomes version 1 of its document type, active. A file changed
in the repository since becomes the next version (``source: file``), and becomes
active if a file version was active: editing the file and deploying is how file
partners are changed, as before. An uploaded version that is active keeps overriding
the file. Idempotent, and safe when several processes do it at once.
"""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from gateway.domain.partner import PartnerProfile
from gateway.mapping.loader import map_files
from gateway.onboarding.map_checks import file_document_type
from gateway.store.models import utcnow
from gateway.store.models_onboarding import ActiveMap, MapVersion, OnboardingGeneration

log = logging.getLogger("gateway.onboarding")


def current_file_maps(maps_dir: Path | None) -> dict[str, tuple[Path, str, str]]:
    """``{document_type: (path, content, sha256)}`` of the map files in ``maps_dir``."""
    out = {}
    for path in map_files(maps_dir) if maps_dir else []:
        content = path.read_text(encoding="utf-8")
        out[file_document_type(path)] = (path, content, hashlib.sha256(content.encode()).hexdigest())
    return out


def import_file_maps(rt, profile: PartnerProfile | None) -> None:
    if profile is None:
        return
    for doc_type, (path, content, sha) in current_file_maps(profile.maps_dir).items():
        try:
            with rt.session() as s:
                _import(s, profile.id, doc_type, path, content, sha)
        except IntegrityError:
            pass  # another process recorded it at the same moment


def _import(s, partner_id: str, doc_type: str, path: Path, content: str, sha: str) -> None:
    of_type = (MapVersion.partner_id == partner_id, MapVersion.document_type == doc_type)
    latest_file = s.scalar(select(MapVersion).where(*of_type, MapVersion.source == "file")
                           .order_by(MapVersion.version.desc()).limit(1))
    if latest_file is not None and latest_file.sha256 == sha:
        return
    number = (s.scalar(select(func.max(MapVersion.version)).where(*of_type)) or 0) + 1
    what = "imported from" if number == 1 else "changed in"
    version = MapVersion(partner_id=partner_id, document_type=doc_type, version=number, filename=path.name,
                         content=content, sha256=sha, source="file",
                         note=f"{what} partners/{partner_id}/maps/{path.name}", created_by="file", created_at=utcnow())
    s.add(version)
    s.flush()
    active = s.get(ActiveMap, (partner_id, doc_type))
    if active is None:
        s.add(ActiveMap(partner_id=partner_id, document_type=doc_type, map_version_id=version.id,
                        activated_by="file", activated_at=utcnow()))
    elif s.get(MapVersion, active.map_version_id).source == "file":
        active.previous_version_id, active.map_version_id = active.map_version_id, version.id
        active.dry_run_id, active.activated_by, active.activated_at = None, "file", utcnow()
        s.execute(update(OnboardingGeneration).where(OnboardingGeneration.id == 1)
                  .values(value=OnboardingGeneration.value + 1))
    log.info("map file %s recorded as version %d of %s/%s", path, number, partner_id, doc_type)
