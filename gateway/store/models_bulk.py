"""A previewed bulk action (revision 0099): what support saw before confirming.

The preview keeps the exact ids it showed. Confirming applies the action to those ids,
never to what the filter matches by then, and can happen once, before ``expires_at``.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from gateway.store.models import Base, utcnow


class BulkPreview(Base):
    __tablename__ = "bulk_previews"

    token: Mapped[str] = mapped_column(String(64), primary_key=True)  # random; names the preview
    kind: Mapped[str] = mapped_column(String(32))  # replay_dead_letters, reprocess_rejected
    filters: Mapped[dict] = mapped_column(JSON)
    target_ids: Mapped[list] = mapped_column(JSON)  # delivery ids or document ids, as previewed
    actor: Mapped[str] = mapped_column(String(160))  # who previewed it: only they may confirm it
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    confirmed_at: Mapped[datetime | None]
    audit_id: Mapped[int | None] = mapped_column(Integer)  # the audit row of the confirmed action
