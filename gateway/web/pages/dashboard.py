"""``/``: today at a glance. Each count is the size of a search, and links to it."""

from __future__ import annotations

from flask import Blueprint, render_template, url_for

from gateway.domain.status import DeliveryStatus, DocumentStatus
from gateway.routing.queues import QUEUE_ORDER
from gateway.store.models import utcnow
from gateway.store.search import DocumentFilters, count_documents, counts_by_partner_and_status
from gateway.web.pages.access import OPERATORS, READERS, allow, principal, rt

bp = Blueprint("console_dashboard", __name__)


def _own(filters: DocumentFilters) -> DocumentFilters:
    """A partner user's counts are of its own documents only."""
    p = principal()
    return DocumentFilters(**{**filters.__dict__, "partner": p.partner_id}) if p.role == "partner" else filters


def queue_depths() -> dict[str, int] | None:
    """Jobs waiting per queue; None when Redis cannot be asked (shown as such, not as zero)."""
    try:
        return {name: rt().queue(name).count for name in QUEUE_ORDER}
    except Exception:  # Redis away: the database still says what is waiting
        return None


@bp.get("/")
@allow(*READERS)
def dashboard():
    today = utcnow().date().isoformat()
    tiles = {
        "Rejected, open": DocumentFilters(status="open"),
        "Dead-lettered deliveries": DocumentFilters(delivery=DeliveryStatus.DEAD_LETTERED),
        "Overdue (stuck in received)": DocumentFilters(overdue="1"),
        "Held (test data, delivered nowhere)": DocumentFilters(held="1"),
        "Received today": DocumentFilters(received_from=today),
    }
    with rt().session() as s:
        counts = [(label, count_documents(s, _own(f)), url_for("console_search.search", **_own(f).as_args()))
                  for label, f in tiles.items()]
        by_partner = counts_by_partner_and_status(s, _own(DocumentFilters(received_from=today)))
    table: dict[str | None, dict[str, int]] = {}
    for partner, status, n in by_partner:
        table.setdefault(partner, {})[status] = n
    if principal().role in OPERATORS:  # held too: corrections awaiting a second approver (theirs to decide)
        from gateway.intake.correction_approval import count_pending

        with rt().session() as s:
            counts.append(("Held: corrections awaiting approval", count_pending(s),
                           url_for("console_corrections.waiting")))
    depths = queue_depths() if principal().role != "partner" else None
    return render_template("console/dashboard.html", counts=counts, table=table, statuses=list(DocumentStatus),
                           today=today, depths=depths, show_queues=principal().role != "partner")
