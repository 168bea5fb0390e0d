"""The partners and maps a running process uses: the ``partners/`` folder plus what was
onboarded in the database, reloaded without a restart.

:func:`refresh` is called per job (and per web request): it reads one row, the
onboarding generation, and only when that moved since the last look does it rebuild
``rt.partners``. Each rebuilt profile is an ordinary :class:`PartnerProfile` read from
a folder written by :mod:`gateway.onboarding.materialize`; a partner with an activated
map version gets a ``maps/`` folder holding its file maps for the other document types
and the active versions, so the translator needs no second source.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field, replace
from pathlib import Path

import yaml
from sqlalchemy import select, update
from sqlalchemy.exc import SQLAlchemyError

from gateway.domain.partner import PartnerProfile, load_partner
from gateway.mapping.loader import BASE_MAPS_DIR, map_files
from gateway.onboarding.file_maps import current_file_maps, import_file_maps
from gateway.onboarding.map_checks import file_document_type
from gateway.onboarding.materialize import write_tree
from gateway.store.db import autocommit
from gateway.store.models_onboarding import (
    ActiveMap,
    MapVersion,
    OnboardedPartner,
    OnboardingGeneration,
    PartnerCertificate,
)

log = logging.getLogger("gateway.onboarding")

_GENERATION = select(OnboardingGeneration.__table__.c.value).where(OnboardingGeneration.__table__.c.id == 1)


@dataclass
class _State:
    file_partners: dict[str, PartnerProfile]
    generation: int | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)


def bump_generation(s) -> None:
    """In the caller's transaction: every process reloads partners and maps on its next job."""
    s.execute(update(OnboardingGeneration).where(OnboardingGeneration.id == 1)
              .values(value=OnboardingGeneration.value + 1))


def file_partners(rt) -> dict[str, PartnerProfile]:
    """The partners kept as files in the repository (as loaded at start)."""
    return _state(rt).file_partners


def _state(rt) -> _State:
    state = rt.__dict__.get("_onboarding")
    if state is None:
        state = rt.__dict__.setdefault("_onboarding", _State(dict(rt.partners)))
    return state


#: the generation column, for a statement that reads it on the way (the document claim)
GENERATION = _GENERATION.scalar_subquery()
_READ = object()


def refresh(rt, generation=_READ) -> None:
    """Bring ``rt.partners`` up to date with the database, if its generation moved.
    ``generation``: as a statement of the caller's just read it (:data:`GENERATION`)."""
    state = _state(rt)
    if generation is _READ:
        try:  # one statement, so no transaction around it (no BEGIN and COMMIT round trips)
            with autocommit(rt.settings.database_url) as connection:
                generation = connection.execute(_GENERATION).scalar()
        except SQLAlchemyError:  # a database not yet upgraded: the files are all there is
            return
    if generation is None or generation == state.generation:
        return
    with state.lock:
        if generation == state.generation:
            return
        try:
            if state.generation is None:  # this process's first look: the repository's maps as versions
                for profile in state.file_partners.values():
                    try:
                        import_file_maps(rt, profile)
                    except SQLAlchemyError:
                        raise
                    except Exception:  # a broken map file was reported at start; never stop a job for it
                        log.exception("the map files of %s could not be recorded as versions", profile.id)
                with rt.session() as s:
                    generation = s.scalar(select(OnboardingGeneration.value).where(OnboardingGeneration.id == 1))
            with rt.session() as s:
                partners = effective_partners(rt.settings.home, state.file_partners, s)
        except SQLAlchemyError as exc:  # the database went away: keep what we have, look again next time
            log.warning("partners and maps not reloaded (%s); trying again on the next job", exc)
            return
        rt.partners = partners
        state.generation = generation
        log.info("partners and maps reloaded (onboarding generation %s)", generation)


def effective_partners(home: Path, files: dict[str, PartnerProfile], s) -> dict[str, PartnerProfile]:
    certificates: dict[str, list[PartnerCertificate]] = {}
    for cert in s.scalars(select(PartnerCertificate).order_by(PartnerCertificate.id)):
        certificates.setdefault(cert.partner_id, []).append(cert)
    active: dict[str, list[MapVersion]] = {}
    for version in s.scalars(select(MapVersion).join(ActiveMap, ActiveMap.map_version_id == MapVersion.id)
                             .order_by(MapVersion.id)):
        active.setdefault(version.partner_id, []).append(version)
    out = dict(files)
    for row in s.scalars(select(OnboardedPartner).order_by(OnboardedPartner.id)):
        if row.id in files:
            continue  # the repository's profile wins; creating such a partner is refused
        try:
            out[row.id] = onboarded_profile(home, row, certificates.get(row.id, []), active.get(row.id, []))
        except Exception:  # one broken row must not take every other partner away
            log.exception("onboarded partner %s could not be loaded; left out", row.id)
    for partner_id, profile in files.items():
        extra_certs = certificates.get(partner_id, [])
        # An active version that is the map file as it is now is read from the file; any
        # other (an upload, or an older file version rolled back to) is written out.
        on_disk = {doc_type: sha for doc_type, (_, _, sha) in current_file_maps(profile.maps_dir).items()}
        versions = [v for v in active.get(partner_id, []) if on_disk.get(v.document_type) != v.sha256]
        if extra_certs and profile.as2 is not None:
            folder = write_tree(home, "certificates", {f"{c.sha256}.pem": c.pem for c in extra_certs})
            profile = replace(profile, as2=replace(profile.as2, certificates=profile.as2.certificates + tuple(
                folder / f"{c.sha256}.pem" for c in extra_certs)))
        if versions:
            profile = replace(profile, folder=maps_folder(home, partner_id, profile.maps_dir, versions))
        out[partner_id] = profile
    return out


def maps_folder(home: Path, partner_id: str, file_maps: Path | None, versions: list, *,
                base_dir: Path = BASE_MAPS_DIR) -> Path:
    """A partner folder whose ``maps/`` holds ``versions`` (``MapVersion``-like: document_type,
    content) and the file maps of every other document type."""
    overridden = {v.document_type for v in versions}
    files = {}
    for path in map_files(file_maps) if file_maps else []:
        if file_document_type(path, base_dir) not in overridden:
            files[f"{partner_id}/maps/{path.name}"] = path.read_text(encoding="utf-8")
    for v in versions:
        files[f"{partner_id}/maps/{v.document_type}.yaml"] = v.content
    return write_tree(home, "maps", files) / partner_id


def onboarded_profile(home: Path, row: OnboardedPartner, certs: list, versions: list) -> PartnerProfile:
    """The profile of a partner created in the database, read as its ``partner.yaml`` would be."""
    profile = yaml.safe_load(yaml.safe_dump(row.profile))  # a copy
    as2 = (profile.get("channels") or {}).get("as2")
    files = {}
    if as2 is not None:
        if certs:
            as2["certificates"] = [f"certs/{c.sha256}.pem" for c in certs]
            files.update({f"{row.id}/certs/{c.sha256}.pem": c.pem for c in certs})
        else:  # AS2 starts once a certificate is added
            profile["channels"].pop("as2")
    files[f"{row.id}/partner.yaml"] = yaml.safe_dump(profile, sort_keys=True)
    for v in versions:
        files[f"{row.id}/maps/{v.document_type}.yaml"] = v.content
    return load_partner(write_tree(home, "partners", files) / row.id / "partner.yaml")
