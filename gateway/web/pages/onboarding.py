"""Buyers onboard partners in the console: the partner list and its create form, a
partner's page (SFTP keys, AS2 certificates, map versions per document type, upload,
rollback), a map version (its YAML, numbered, and a dry-run form) and a dry-run's
results (per-document diff, canonical JSON, the activate form).

Pages call the same service functions as ``/api/v1/partners``; everyone but partners
may look, ``buyer`` and ``admin`` may change, always with a reason that lands in the
audit log in the change's own transaction. A refusal re-renders the page with what was
wrong (file, line, field) and changes nothing.
"""

from __future__ import annotations

import difflib
import json

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from gateway.domain.partner import CONTROL_NUMBER_REUSE, TEST_DATA
from gateway.onboarding import OnboardingError, dry_run, map_versions, partners
from gateway.store.models import utcnow
from gateway.store.models_onboarding import MapDryRun
from gateway.web.pages.access import STAFF, allow, principal, rt

bp = Blueprint("console_onboarding", __name__)
BUYERS = ("admin", "buyer")
MAX_REASON = 2000
ACKS = ("auto", "997", "999", "none")


def _reason() -> str:
    text = (request.form.get("reason") or "").strip()[:MAX_REASON]
    if not text:
        raise OnboardingError("Say why: the reason goes to the audit log.")
    return text


def _may_change() -> bool:
    return current_user.role in BUYERS


def _refused(exc: OnboardingError, page, *args):
    """The page the form was on, again, with what was wrong (or the page's own 404)."""
    flash(str(exc), "error")
    shown = page(*args, problems=exc.problems)
    return shown if isinstance(shown, tuple) else (shown, exc.status)


@bp.get("/partners")
@allow(*STAFF)
def partner_list(problems=None, form=None):
    return render_template("console/partners.html", title="Partners", partners=partners.list_partners(rt()),
                           may_change=_may_change(), problems=problems or [], form=form or request.form,
                           acks=ACKS, reuse=CONTROL_NUMBER_REUSE, test_data=TEST_DATA)


def _profile_from_form(f) -> dict:
    split = lambda text: [x for x in (text or "").replace(",", " ").split() if x]  # noqa: E731
    channels: dict = {}
    if f.get("sftp"):
        channels["sftp"] = {}
    if (f.get("as2_id") or "").strip():
        channels["as2"] = {"as2_id": f["as2_id"].strip()}
    cxml = []
    for line in (f.get("cxml") or "").splitlines():
        if line.strip():
            domain, _, identity = line.strip().partition(" ")
            cxml.append({"domain": domain, "identity": identity.strip()})
    return {"id": (f.get("id") or "").strip(), "name": (f.get("name") or "").strip(),
            "x12": {"qualifier": (f.get("isa_qualifier") or "").strip(), "id": (f.get("isa_id") or "").strip(),
                    "group_ids": split(f.get("group_ids")), "ack": f.get("ack") or "auto",
                    "control_number_reuse": f.get("control_number_reuse") or "after_rejection"},
            "our_x12": {"qualifier": (f.get("our_qualifier") or "").strip(), "id": (f.get("our_id") or "").strip(),
                        "group_ids": split(f.get("our_group_ids"))},
            "test_data": f.get("test_data") or "hold", "channels": channels,
            **({"xml": {"cxml": cxml}} if cxml else {})}


@bp.post("/partners")
@allow(*BUYERS)
def create_partner():
    try:
        profile = partners.create(rt(), principal(), _profile_from_form(request.form), _reason())
    except OnboardingError as exc:
        flash(str(exc), "error")
        return partner_list(problems=exc.problems, form=request.form), exc.status
    flash(f"Partner {profile.id} created. Add its SFTP key or AS2 certificate, then its maps.")
    return redirect(url_for(".partner_page", partner_id=profile.id))


def _form_from_profile(profile: dict | None) -> dict:
    """The create form's fields, filled from a stored profile (for the edit form)."""
    if not profile:
        return {}
    x12, ours = profile.get("x12") or {}, profile.get("our_x12") or {}
    channels = profile.get("channels") or {}
    return {"id": profile.get("id", ""), "name": profile.get("name", ""), "isa_qualifier": x12.get("qualifier", ""),
            "isa_id": x12.get("id", ""), "group_ids": " ".join(x12.get("group_ids") or []),
            "ack": x12.get("ack", "auto"), "control_number_reuse": x12.get("control_number_reuse", "after_rejection"),
            "our_qualifier": ours.get("qualifier", ""), "our_id": ours.get("id", ""),
            "our_group_ids": " ".join(ours.get("group_ids") or []), "test_data": profile.get("test_data", "hold"),
            "sftp": "1" if "sftp" in channels else "", "as2_id": (channels.get("as2") or {}).get("as2_id", ""),
            "cxml": "\n".join(f"{c['domain']} {c['identity']}" for c in (profile.get("xml") or {}).get("cxml") or [])}


@bp.get("/partners/<partner_id>")
@allow(*STAFF)
def partner_page(partner_id: str, problems=None, form=None):
    try:
        partner = partners.describe(rt(), partner_id)
        types = map_versions.versions(rt(), partner_id)
    except OnboardingError as exc:
        return render_template("console/error.html", title="Not found", message=str(exc)), exc.status
    return render_template("console/partner.html", title=f"Partner {partner_id}", partner=partner, types=types,
                           may_change=_may_change(), problems=problems or [],
                           form=form or _form_from_profile(partner["profile"]), acks=ACKS,
                           reuse=CONTROL_NUMBER_REUSE, test_data=TEST_DATA)


def _overlay(stored: dict, form: dict) -> dict:
    """The stored profile with the form's fields over it: settings the form does not show
    (SFTP password hash and limits, AS2 algorithms, UBL ids, deadlines) are kept."""
    out = {**stored, **{k: form[k] for k in ("id", "name", "test_data")}}
    for key in ("x12", "our_x12"):
        out[key] = {**(stored.get(key) or {}), **form[key]}
    channels = {}
    old = stored.get("channels") or {}
    if "sftp" in form["channels"]:
        channels["sftp"] = old.get("sftp") or {}
    if "as2" in form["channels"]:
        channels["as2"] = {**(old.get("as2") or {}), **form["channels"]["as2"]}
    out["channels"] = channels
    xml = dict(stored.get("xml") or {})
    xml["cxml"] = (form.get("xml") or {}).get("cxml", [])
    out["xml"] = xml if xml.get("cxml") or xml.get("ubl") else None
    return out


@bp.post("/partners/<partner_id>/edit")
@allow(*BUYERS)
def edit_partner(partner_id: str):
    try:
        changed = _overlay(partners.stored_profile(rt(), partner_id), _profile_from_form(request.form))
        partners.update(rt(), principal(), partner_id, changed, _reason())
    except OnboardingError as exc:
        flash(str(exc), "error")
        shown = partner_page(partner_id, problems=exc.problems, form=request.form)
        return shown if isinstance(shown, tuple) else (shown, exc.status)
    flash(f"Partner {partner_id} changed: new documents are handled by the new settings.")
    return redirect(url_for(".partner_page", partner_id=partner_id))


@bp.post("/partners/<partner_id>/sftp-keys")
@allow(*BUYERS)
def add_sftp_key(partner_id: str):
    try:
        key = partners.add_sftp_key(rt(), principal(), partner_id, request.form.get("key", ""), _reason())
    except OnboardingError as exc:
        return _refused(exc, partner_page, partner_id)
    flash(f"SFTP key {key.fingerprint} added: {partner_id} may log in with it now.")
    return redirect(url_for(".partner_page", partner_id=partner_id))


@bp.post("/partners/<partner_id>/certificates")
@allow(*BUYERS)
def add_certificate(partner_id: str):
    pem = request.form.get("certificate", "")
    upload = request.files.get("certificate_file")
    if upload is not None and upload.filename:
        pem = upload.read().decode("utf-8", "replace")
    try:
        cert = partners.add_certificate(rt(), principal(), partner_id, pem, _reason())
    except OnboardingError as exc:
        return _refused(exc, partner_page, partner_id)
    flash(f"Certificate {cert.subject} added (valid until {cert.not_after:%Y-%m-%d}).")
    return redirect(url_for(".partner_page", partner_id=partner_id))


@bp.post("/partners/<partner_id>/maps")
@allow(*BUYERS)
def upload_map(partner_id: str):
    upload = request.files.get("map")
    try:
        if upload is None or not upload.filename:
            raise OnboardingError("Choose the map file (.yaml) to upload.")
        try:
            content = upload.read().decode("utf-8")
        except UnicodeDecodeError:
            raise OnboardingError("A map is UTF-8 text.") from None
        version = map_versions.upload(rt(), principal(), partner_id, upload.filename, content, _reason())
    except OnboardingError as exc:
        return _refused(exc, partner_page, partner_id)
    flash(f"Version {version.version} of {version.document_type} stored. Dry-run it before activating it.")
    return redirect(url_for(".version_page", partner_id=partner_id, version_id=version.id))


@bp.get("/partners/<partner_id>/maps/<int:version_id>")
@allow(*STAFF)
def version_page(partner_id: str, version_id: int, problems=None):
    try:
        version = map_versions.get_version(rt(), partner_id, version_id)
        types = {t["document_type"]: t for t in map_versions.versions(rt(), partner_id)}
    except OnboardingError as exc:
        return render_template("console/error.html", title="Not found", message=str(exc)), exc.status
    with rt().session() as s:
        runs = [dry_run.summary_of(r, with_results=False) for r in s.scalars(
            select(MapDryRun).where(MapDryRun.map_version_id == version_id).order_by(MapDryRun.created_at.desc())
            .limit(20))]
    group = types.get(version.document_type, {})
    active_id = group.get("active_version_id")
    changes = None
    if active_id and active_id != version.id:
        active = map_versions.get_version(rt(), partner_id, active_id)
        changes = "".join(difflib.unified_diff(active.content.splitlines(keepends=True),
                                               version.content.splitlines(keepends=True),
                                               f"v{active.version} (active)", f"v{version.version}"))
    return render_template("console/map_version.html", changes=changes, title=f"{version.document_type} v{version.version}",
                           partner_id=partner_id, version=map_versions.version_summary(version),
                           content=version.content, active_id=active_id, runs=runs,
                           may_change=_may_change(), problems=problems or [],
                           default_documents=dry_run.DEFAULT_DOCUMENTS, max_documents=dry_run.MAX_DOCUMENTS)


@bp.post("/partners/<partner_id>/maps/<int:version_id>/dry-runs")
@allow(*BUYERS)
def start_dry_run(partner_id: str, version_id: int):
    try:
        raw = request.form.get("documents") or str(dry_run.DEFAULT_DOCUMENTS)
        if not raw.isdigit():
            raise OnboardingError(f"How many documents: a whole number from 0 to {dry_run.MAX_DOCUMENTS}.")
        samples = [(f.filename or "sample", f.read()) for f in request.files.getlist("samples") if f.filename]
        result = dry_run.run(rt(), principal(), partner_id, version_id, documents=int(raw), samples=samples,
                             reason=(request.form.get("reason") or "").strip()[:MAX_REASON] or None)
    except OnboardingError as exc:
        return _refused(exc, version_page, partner_id, version_id)
    return redirect(url_for(".dry_run_page", partner_id=partner_id, dry_run_id=result.id))


@bp.get("/partners/<partner_id>/dry-runs/<dry_run_id>")
@allow(*STAFF)
def dry_run_page(partner_id: str, dry_run_id: str, problems=None):
    try:
        result = dry_run.get(rt(), partner_id, dry_run_id)
        version = map_versions.get_version(rt(), partner_id, result.map_version_id)
        types = {t["document_type"]: t for t in map_versions.versions(rt(), partner_id)}
    except OnboardingError as exc:
        return render_template("console/error.html", title="Not found", message=str(exc)), exc.status
    active_id = types.get(version.document_type, {}).get("active_version_id")
    return render_template("console/dry_run.html", title=f"Dry-run of {version.document_type} v{version.version}",
                           partner_id=partner_id, run=dry_run.summary_of(result), outcomes=dry_run.OUTCOMES,
                           version=map_versions.version_summary(version), active_id=active_id,
                           stale=result.baseline_version_id != active_id
                           or utcnow() - result.created_at > map_versions.DRY_RUN_MAX_AGE, may_change=_may_change(),
                           problems=problems or [], pretty=lambda value: json.dumps(value, indent=2))


@bp.post("/partners/<partner_id>/maps/<int:version_id>/activate")
@allow(*BUYERS)
def activate(partner_id: str, version_id: int):
    run_id = request.form.get("dry_run_id", "")
    try:
        done = map_versions.activate(rt(), principal(), partner_id, version_id, run_id, _reason(),
                                     accept_failures=bool(request.form.get("accept_failures")))
    except OnboardingError as exc:
        with rt().session() as s:
            seen = s.get(MapDryRun, run_id) if run_id else None
            seen = seen is not None and seen.partner_id == partner_id
        return _refused(exc, dry_run_page if seen else version_page, partner_id, run_id if seen else version_id)
    flash(f"Version {done['version']} of {done['document_type']} is active: new documents use it.")
    return redirect(url_for(".partner_page", partner_id=partner_id))


@bp.post("/partners/<partner_id>/document-types/<document_type>/rollback")
@allow(*BUYERS)
def rollback(partner_id: str, document_type: str):
    try:
        done = map_versions.rollback(rt(), principal(), partner_id, document_type, _reason())
    except OnboardingError as exc:
        return _refused(exc, partner_page, partner_id)
    flash(f"Rolled back: version {done['version']} of {document_type} is active again.")
    return redirect(url_for(".partner_page", partner_id=partner_id))
