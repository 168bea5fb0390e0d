"""``/api/v1/partners``: onboard a partner, add its certificate or SFTP key, upload map
versions, dry-run them, activate one from a dry-run, roll back.

Reading needs any staff role (not ``partner``); changing needs ``buyer`` or ``admin``
and a reason, and the audit row is written in the change's own transaction. A refusal
is a 4xx with ``error`` (and ``problems``: file, line, field, message) and changes
nothing.
"""

from __future__ import annotations

from flask import Blueprint, current_app, g, jsonify, request

from gateway.onboarding import OnboardingError, dry_run, map_versions, partners
from gateway.onboarding.directory import refresh
from gateway.web.auth import READERS, require

bp = Blueprint("api_onboarding", __name__, url_prefix="/api/v1/partners")
STAFF = tuple(r for r in READERS if r != "partner")
BUYERS = ("admin", "buyer")
MAX_REASON_CHARS = 2000


def _rt():
    return current_app.extensions["gateway"]


@bp.before_app_request
def _current_partners():
    """Every request sees partners and maps onboarded by any process (one cheap read)."""
    refresh(_rt())


@bp.errorhandler(OnboardingError)
def _refused(exc: OnboardingError):
    body = {"error": str(exc)}
    if exc.problems:
        body["problems"] = exc.problems
    return jsonify(body), exc.status


def _body() -> dict:
    body = request.get_json(silent=True) if request.get_data(cache=True) else {}
    if not isinstance(body, dict):
        raise OnboardingError("the body must be a JSON object")
    return body


def _reason(body: dict) -> str:
    reason = body.get("reason")
    if not isinstance(reason, str) or not reason.strip():
        raise OnboardingError("say why: a non-empty text \"reason\" is required (it goes to the audit log)")
    if len(reason) > MAX_REASON_CHARS:
        raise OnboardingError(f"the reason is over {MAX_REASON_CHARS} characters")
    return reason.strip()


@bp.get("")
@require(*STAFF)
def list_all():
    return jsonify({"partners": partners.list_partners(_rt())})


@bp.post("")
@require(*BUYERS)
def create():
    body = _body()
    reason = _reason(body)
    profile = partners.create(_rt(), g.principal, body.get("partner"), reason)
    return jsonify(partners.describe(_rt(), profile.id)), 201


@bp.get("/<partner_id>")
@require(*STAFF)
def show(partner_id: str):
    return jsonify(partners.describe(_rt(), partner_id))


@bp.put("/<partner_id>")
@require(*BUYERS)
def update(partner_id: str):
    """Replace a partner's profile (one created here; a file partner is changed in its file)."""
    body = _body()
    reason = _reason(body)
    partners.update(_rt(), g.principal, partner_id, body.get("partner"), reason)
    return jsonify(partners.describe(_rt(), partner_id))


@bp.post("/<partner_id>/certificates")
@require(*BUYERS)
def add_certificate(partner_id: str):
    body = _body()
    reason = _reason(body)
    cert = partners.add_certificate(_rt(), g.principal, partner_id, body.get("certificate"), reason)
    return jsonify({"sha256": cert.sha256, "subject": cert.subject, "not_before": cert.not_before.isoformat(),
                    "not_after": cert.not_after.isoformat()}), 201


@bp.post("/<partner_id>/sftp-keys")
@require(*BUYERS)
def add_sftp_key(partner_id: str):
    body = _body()
    reason = _reason(body)
    key = partners.add_sftp_key(_rt(), g.principal, partner_id, body.get("key"), reason)
    return jsonify({"fingerprint": key.fingerprint, "key_type": key.key_type, "comment": key.comment}), 201


@bp.get("/<partner_id>/maps")
@require(*STAFF)
def list_maps(partner_id: str):
    return jsonify({"document_types": map_versions.versions(_rt(), partner_id)})


@bp.post("/<partner_id>/maps")
@require(*BUYERS)
def upload_map(partner_id: str):
    """A new map version: JSON ``{filename, content, reason}``, or a multipart form with
    ``file`` and ``reason``. Validated before it is stored (422 names file, line, field)."""
    if request.mimetype == "multipart/form-data":
        upload = request.files.get("file")
        if upload is None:
            raise OnboardingError("the form carried no file")
        filename, raw, reason = upload.filename or "", upload.read(), _reason(request.form.to_dict())
        try:
            content = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise OnboardingError("a map is UTF-8 text") from None
    else:
        body = _body()
        reason = _reason(body)
        filename, content = body.get("filename"), body.get("content")
        if not isinstance(filename, str) or not isinstance(content, str):
            raise OnboardingError("send {\"filename\": \"...yaml\", \"content\": \"<the map>\", \"reason\": \"...\"}")
    version = map_versions.upload(_rt(), g.principal, partner_id, filename, content, reason)
    return jsonify(map_versions.version_summary(version)), 201


@bp.get("/<partner_id>/maps/<int:version_id>")
@require(*STAFF)
def show_map(partner_id: str, version_id: int):
    version = map_versions.get_version(_rt(), partner_id, version_id)
    return jsonify({**map_versions.version_summary(version), "content": version.content})


@bp.post("/<partner_id>/maps/<int:version_id>/dry-runs")
@require(*BUYERS)
def start_dry_run(partner_id: str, version_id: int):
    """Translate samples and the last ``documents`` real documents with this version and
    with the active one; nothing is stored as events or delivered."""
    body = _body()
    samples = body.get("samples") or []
    if not isinstance(samples, list) or not all(
            isinstance(x, dict) and isinstance(x.get("name"), str) and isinstance(x.get("content"), str)
            for x in samples):
        raise OnboardingError("samples must be a list of {\"name\": ..., \"content\": <document text>}")
    reason = body.get("reason") if isinstance(body.get("reason"), str) else None
    result = dry_run.run(_rt(), g.principal, partner_id, version_id,
                         documents=body.get("documents", dry_run.DEFAULT_DOCUMENTS),
                         samples=[(x["name"][:100], x["content"].encode()) for x in samples], reason=reason)
    return jsonify(dry_run.summary_of(result)), 201


@bp.get("/<partner_id>/dry-runs/<dry_run_id>")
@require(*STAFF)
def show_dry_run(partner_id: str, dry_run_id: str):
    return jsonify(dry_run.summary_of(dry_run.get(_rt(), partner_id, dry_run_id)))


@bp.post("/<partner_id>/maps/<int:version_id>/activate")
@require(*BUYERS)
def activate(partner_id: str, version_id: int):
    body = _body()
    reason = _reason(body)
    accept = body.get("accept_failures", False)
    if not isinstance(accept, bool):
        raise OnboardingError("accept_failures must be true or false")
    return jsonify(map_versions.activate(_rt(), g.principal, partner_id, version_id, body.get("dry_run_id"),
                                         reason, accept_failures=accept))


@bp.post("/<partner_id>/document-types/<document_type>/rollback")
@require(*BUYERS)
def rollback(partner_id: str, document_type: str):
    body = _body()
    return jsonify(map_versions.rollback(_rt(), g.principal, partner_id, document_type, _reason(body)))
