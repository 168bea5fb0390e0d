"""Run a map version on a partner's samples and its last real documents, beside the
version active now: the canonical JSON each would produce and, per document, what
changed and what newly fails.

Translation only: nothing is validated against the X12 tables, stored as an event, or
delivered. The same context (document id, received time, correlation id) is given to
both versions, so their events differ only where the maps do. The result is kept as a
``MapDryRun`` row: activation names it (:func:`gateway.onboarding.map_versions.activate`).
"""

from __future__ import annotations

import json
import secrets
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import yaml
from sqlalchemy import select

from gateway.domain.status import DocumentStatus
from gateway.events.envelope import SourceContext
from gateway.mapping.evaluate import TranslationError
from gateway.mapping.translator import cached_maps, translate_transaction
from gateway.mapping.xmltranslator import document_kind, safe_parse, translate_document
from gateway.onboarding.directory import file_partners, maps_folder
from gateway.onboarding.errors import OnboardingError
from gateway.onboarding.map_checks import document_type
from gateway.onboarding.map_versions import (
    active_version_id,
    audit_change,
    get_version,
    import_file_maps,
    require_partner,
)
from gateway.store.models import Document, TransactionSetRecord, utcnow
from gateway.store.models_onboarding import MapDryRun

DEFAULT_DOCUMENTS = 20
MAX_DOCUMENTS = 50
MAX_SAMPLES = 10
MAX_DOCUMENT_BYTES = 2 * 1024 * 1024  # bigger documents are left out of a dry-run, and counted
MAX_CHANGES = 200  # per transaction set
OUTCOMES = ("newly_fails", "changed", "fixed", "new", "fails_both", "unchanged")  # the worst first


def run(rt, principal, partner_id: str, version_id: int, *, documents: int = DEFAULT_DOCUMENTS,
        samples: list[tuple[str, bytes]] = (), reason: str | None = None) -> MapDryRun:
    """Dry-run ``version_id`` on the partner's samples, ``samples`` given with the
    request, and its last ``documents`` real documents of the map's document type."""
    if not isinstance(documents, int) or isinstance(documents, bool) or not 0 <= documents <= MAX_DOCUMENTS:
        raise OnboardingError(f"documents must be a whole number from 0 to {MAX_DOCUMENTS}")
    if len(samples) > MAX_SAMPLES:
        raise OnboardingError(f"at most {MAX_SAMPLES} samples may be sent with a dry-run")
    profile = require_partner(rt, partner_id)
    import_file_maps(rt, partner_id)
    version = get_version(rt, partner_id, version_id)
    with rt.session() as s:
        baseline_id = active_version_id(s, partner_id, version.document_type)
    home = rt.settings.home
    candidate_set = cached_maps(maps_folder(home, partner_id, profile.maps_dir, [version]) / "maps")
    candidate = next(m for m in candidate_set.partner if document_type(m) == version.document_type)
    baseline_set = cached_maps(profile.maps_dir)

    results, skipped = [], 0
    sources = [(name, data, "sample") for name, data in [*_partner_samples(rt, partner_id), *samples]]
    for name, data, kind in sources:
        if len(data) > MAX_DOCUMENT_BYTES:
            skipped += 1
            continue
        context = SourceContext(partner_id, f"sample:{name}"[:40], utcnow(), f"dry-run-{name}"[:64])
        sets = _compare(data, context, candidate_set, candidate, baseline_set)
        if sets:
            results.append(_document(kind, name, None, sets))
    if documents:
        with rt.session() as s:
            rows = list(s.execute(_recent_documents(partner_id, candidate).limit(documents * 2)))
        found = 0
        for row in rows:
            if found >= documents:
                break
            if (row.size or 0) > MAX_DOCUMENT_BYTES:
                skipped += 1
                continue
            context = SourceContext(partner_id, row.id, row.received_at, row.correlation_id)
            sets = _compare(rt.blobs.get(row.sha256), context, candidate_set, candidate, baseline_set)
            if sets:
                found += 1
                results.append(_document("document", row.filename, row.id, sets, row.received_at))
    summary = {outcome: sum(1 for r in results if r["outcome"] == outcome) for outcome in OUTCOMES}
    summary.update(documents=len(results), skipped_too_big=skipped)
    results = _storable(results)
    with rt.session() as s:
        dry_run = MapDryRun(id="dry_" + secrets.token_hex(12), partner_id=partner_id, map_version_id=version.id,
                            baseline_version_id=baseline_id, summary=summary, results=results,
                            created_by=principal.actor, created_at=utcnow())
        s.add(dry_run)
        audit_change(s, principal, "map.dry_run", f"partner:{partner_id}", reason,
               {"dry_run_id": dry_run.id, "map_version_id": version.id, "baseline_version_id": baseline_id,
                "summary": summary})
        s.flush()
        s.expunge(dry_run)
    return dry_run


def get(rt, partner_id: str, dry_run_id: str) -> MapDryRun:
    from gateway.onboarding.errors import NotFound

    with rt.session() as s:
        dry_run = s.get(MapDryRun, dry_run_id)
        if dry_run is None or dry_run.partner_id != partner_id:
            raise NotFound(f"partner {partner_id!r} has no dry-run {dry_run_id[:40]!r}")
        s.expunge(dry_run)
    return dry_run


def summary_of(dry_run: MapDryRun, with_results: bool = True) -> dict:
    out = {"id": dry_run.id, "partner_id": dry_run.partner_id, "map_version_id": dry_run.map_version_id,
           "baseline_version_id": dry_run.baseline_version_id, "summary": dry_run.summary,
           "created_by": dry_run.created_by, "created_at": dry_run.created_at.isoformat()}
    if with_results:
        out["results"] = dry_run.results
    return out


def _recent_documents(partner_id: str, candidate):
    """The partner's processed documents that hold the map's document type, newest first."""
    query = (select(Document.id, Document.filename, Document.sha256, Document.size, Document.received_at,
                    Document.correlation_id)
             .where(Document.partner_id == partner_id,
                    Document.status.in_([DocumentStatus.ACCEPTED, DocumentStatus.REJECTED]))
             .order_by(Document.received_at.desc(), Document.id.desc()))
    if candidate.format == "x12":
        return query.where(Document.id.in_(select(TransactionSetRecord.document_id)
                                           .where(TransactionSetRecord.set_id == candidate.transaction_set)))
    return query.where(Document.format == "xml")


def _partner_samples(rt, partner_id: str) -> list[tuple[str, bytes]]:
    """A repository partner's ``samples/`` and the inputs of its map tests."""
    profile = file_partners(rt).get(partner_id)
    if profile is None:
        return []
    paths: list[Path] = []
    samples = profile.folder / "samples"
    if samples.is_dir():
        paths.extend(p for p in sorted(samples.iterdir()) if p.is_file())
    for test in sorted((profile.folder / "maps").glob("*.test.yaml")):
        try:
            cases = (yaml.safe_load(test.read_text(encoding="utf-8")) or {}).get("cases") or []
        except yaml.YAMLError:
            continue
        paths.extend((test.parent / c["input"]).resolve() for c in cases if isinstance(c, dict) and c.get("input"))
    seen, out = set(), []
    for path in paths:
        if path not in seen and path.is_file():
            seen.add(path)
            out.append((path.name, path.read_bytes()))
    return out[:MAX_SAMPLES * 5]


def _translate(fn, *args) -> tuple[dict | None, str | None]:
    try:
        return fn(*args), None
    except TranslationError as exc:
        return None, str(exc)
    except Exception as exc:  # noqa: BLE001 - shown as ours, not as the document's fault
        return None, f"internal error while translating ({type(exc).__name__}: {exc})"


def _compare(data: bytes, context, candidate_set, candidate, baseline_set) -> list[dict]:
    """One entry per transaction set (or XML document) the candidate map translates."""
    out = []
    if data.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<"):
        try:
            root = safe_parse(data)
            fmt, name, start = document_kind(root)
        except TranslationError:
            return []
        if candidate_set.select_document(fmt, name) is not candidate:
            return []
        before_map = baseline_set.select_document(fmt, name)
        after = _translate(translate_document, candidate, start, fmt, name, context)
        before = _translate(translate_document, before_map, start, fmt, name, context) if before_map else None
        return [_set_result(f"{fmt} {name}", before, after, before_map)]
    from gateway.x12.reader import read_x12

    try:
        interchanges = read_x12(data).interchanges
    except Exception:  # noqa: BLE001 - not X12 we can read: not a document for this map
        return []
    for ic in interchanges:
        for group in ic.groups:
            for ts in group.transactions:
                if candidate_set.select(ts.set_id, group.version) is not candidate:
                    continue
                single = replace(ic, groups=[replace(group, transactions=[ts])])
                before_map = baseline_set.select(ts.set_id, group.version)
                after = _translate(translate_transaction, candidate, single, group, ts, context)
                before = _translate(translate_transaction, before_map, single, group, ts, context) if before_map else None
                out.append(_set_result(f"{ts.set_id} ST02={ts.control_number} (ISA13={ic.control_number})",
                                       before, after, before_map))
    return out


def _set_result(label: str, before, after, before_map) -> dict:
    after_event, after_error = after
    before_event, before_error = before if before else (None, None)
    if before is None:
        outcome = "new" if after_error is None else "fails_both"
    elif before_error is None and after_error is not None:
        outcome = "newly_fails"
    elif before_error is not None and after_error is None:
        outcome = "fixed"
    elif before_error is not None:
        outcome = "fails_both"
    else:
        outcome = "unchanged" if before_event == after_event else "changed"
    changes = diff(before_event, after_event) if before_event is not None and after_event is not None else []
    return {"label": label, "outcome": outcome, "before_map": before_map.id if before_map else None,
            "before": before_event, "after": after_event, "before_error": before_error, "after_error": after_error,
            "changes": changes[:MAX_CHANGES], "more_changes": max(0, len(changes) - MAX_CHANGES)}


def _document(kind: str, name: str, document_id: str | None, sets: list[dict],
              received_at: datetime | None = None) -> dict:
    outcome = next(o for o in OUTCOMES if o in {s["outcome"] for s in sets} or o == "unchanged")
    return {"kind": kind, "name": name, "document_id": document_id,
            "received_at": received_at.isoformat() if received_at else None, "outcome": outcome, "sets": sets}


def diff(before: object, after: object, at: str = "") -> list[dict]:
    """Every leaf that differs: ``[{path, before, after}]`` (a missing side is None)."""
    if isinstance(before, dict) and isinstance(after, dict):
        out = []
        for key in list(before) + [k for k in after if k not in before]:
            out.extend(diff(before.get(key), after.get(key), f"{at}.{key}" if at else str(key)))
        return out
    if isinstance(before, list) and isinstance(after, list):
        out = []
        for i in range(max(len(before), len(after))):
            out.extend(diff(before[i] if i < len(before) else None, after[i] if i < len(after) else None,
                            f"{at}[{i}]"))
        return out
    return [] if before == after else [{"path": at, "before": before, "after": after}]


def _storable(results: list[dict]) -> list[dict]:
    """JSON that both databases store (PostgreSQL refuses NUL characters in text)."""
    return json.loads(json.dumps(results, default=str).replace("\\u0000", "\\ufffd"))
