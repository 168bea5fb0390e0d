"""``/search``: find documents by any filter; the URL is the search (share it), and the
same URL with ``/search.csv`` or ``/search.json`` exports every match (up to a limit)."""

from __future__ import annotations

import csv
import io
from urllib.parse import urlencode

from flask import Blueprint, Response, jsonify, render_template, request

from gateway.domain.status import DeliveryStatus, DocumentStatus
from gateway.store.search import (
    EXPORT_LIMIT,
    PAGE_SIZE,
    BadFilter,
    DocumentFilters,
    search_documents,
)
from gateway.store.views import document_summary
from gateway.web.auth import audit
from gateway.web.pages.access import READERS, allow, principal, rt
from gateway.web.pages.saved_searches import saved_searches

bp = Blueprint("console_search", __name__)
EXPORT_COLUMNS = ("id", "partner_id", "channel", "filename", "format", "status", "reason", "size", "sha256",
                  "received_at", "processed_at", "correlation_id", "duplicate_of")


def _filters() -> DocumentFilters:
    f = DocumentFilters.from_args(request.args)
    p = principal()
    if p.role == "partner":  # whatever the URL says, a partner searches its own documents
        f = DocumentFilters(**{**f.__dict__, "partner": p.partner_id})
    return f


def _page() -> int:
    value = request.args.get("page", "1")
    return int(value) if value.isdigit() and 0 < int(value) < 100_000 else 1


@bp.get("/search")
@allow(*READERS)
def search():
    f, page = _filters(), _page()
    rows, total, error = [], 0, None
    try:
        with rt().session() as s:
            docs, total = search_documents(s, f, page=page, page_size=PAGE_SIZE)
            rows = [document_summary(d) for d in docs]
    except BadFilter as exc:
        error = str(exc)
    return render_template("console/search.html", f=f, rows=rows, total=total, page=page, error=error,
                           pages=max(1, -(-total // PAGE_SIZE)), statuses=["open", *DocumentStatus],
                           deliveries=list(DeliveryStatus), partners=sorted(rt().partners),
                           args=f.as_args(), query=urlencode(f.as_args()), saved=saved_searches()), \
        400 if error else 200


def _export_rows() -> list[dict] | Response:
    f = _filters()
    try:
        with rt().session() as s:
            docs, total = search_documents(s, f, page=1, page_size=EXPORT_LIMIT)
            rows = [document_summary(d) for d in docs]
    except BadFilter as exc:
        return jsonify({"error": str(exc)}), 400
    audit(principal(), "documents.export", None, details={"filters": f.as_args(), "rows": len(rows),
                                                          "format": request.path.rsplit(".", 1)[-1]})
    return rows


@bp.get("/search.json")
@allow(*READERS)
def export_json():
    rows = _export_rows()
    if not isinstance(rows, list):
        return rows
    return jsonify({"documents": rows, "count": len(rows), "limit": EXPORT_LIMIT})


@bp.get("/search.csv")
@allow(*READERS)
def export_csv():
    rows = _export_rows()
    if not isinstance(rows, list):
        return rows
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=EXPORT_COLUMNS, extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        # A cell a spreadsheet would run as a formula (=, +, -, @) is quoted with a leading '.
        writer.writerow({k: ("'" + v if isinstance(v, str) and v[:1] in "=+-@\t\r" else v) for k, v in row.items()})
    return Response(out.getvalue(), mimetype="text/csv",
                    headers={"Content-Disposition": 'attachment; filename="documents.csv"'})
