"""Onboarding tables: partners created in the console, their SFTP keys' companions (AS2
certificates), their map versions, dry-runs and which version is active.

A map version is immutable once stored (content, checksum, who, when); activating one
only moves the pointer in ``active_maps``. ``onboarding_generation`` is one row whose
number goes up in the same transaction as every change a worker must see: a worker
compares it per job (one primary-key read) and reloads partners and maps when it moved.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from gateway.store.models import Base, utcnow


class OnboardedPartner(Base):
    """A partner created through the API or the console: its ``partner.yaml`` as data."""

    __tablename__ = "onboarded_partners"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    profile: Mapped[dict] = mapped_column(JSON)  # the partner.yaml shape, validated by its schema
    created_by: Mapped[str] = mapped_column(String(160))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class PartnerCertificate(Base):
    """A partner's AS2 certificate (PEM), checked when added: readable, in date, key size."""

    __tablename__ = "partner_certificates"
    __table_args__ = (UniqueConstraint("partner_id", "sha256", name="uq_partner_certificate"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    partner_id: Mapped[str] = mapped_column(String(64), index=True)
    pem: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str] = mapped_column(String(500))
    not_before: Mapped[datetime]
    not_after: Mapped[datetime]
    added_by: Mapped[str] = mapped_column(String(160))
    added_at: Mapped[datetime] = mapped_column(default=utcnow)


class MapVersion(Base):
    """One version of a partner's map for one document type (``x12-855-004010``,
    ``cxml-OrderRequest``). ``source`` is ``file`` for a map kept in the repository
    (imported as version 1, read from its file) or ``upload``."""

    __tablename__ = "map_versions"
    __table_args__ = (UniqueConstraint("partner_id", "document_type", "version", name="uq_map_version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    partner_id: Mapped[str] = mapped_column(String(64), index=True)
    document_type: Mapped[str] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer)
    filename: Mapped[str] = mapped_column(String(255))
    content: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(String(16))  # file, upload
    note: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[str] = mapped_column(String(160))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class MapDryRun(Base):
    """A map version run on samples and recent documents, compared with the version that
    was active then (``baseline_version_id``; None: none was). Activation names it."""

    __tablename__ = "map_dry_runs"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    partner_id: Mapped[str] = mapped_column(String(64), index=True)
    map_version_id: Mapped[int] = mapped_column(ForeignKey("map_versions.id"))
    baseline_version_id: Mapped[int | None] = mapped_column(ForeignKey("map_versions.id"))
    summary: Mapped[dict] = mapped_column(JSON)
    results: Mapped[list] = mapped_column(JSON)
    created_by: Mapped[str] = mapped_column(String(160))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ActiveMap(Base):
    """Which version of a partner's map for a document type is in use."""

    __tablename__ = "active_maps"

    partner_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    document_type: Mapped[str] = mapped_column(String(64), primary_key=True)
    map_version_id: Mapped[int] = mapped_column(ForeignKey("map_versions.id"))
    previous_version_id: Mapped[int | None] = mapped_column(ForeignKey("map_versions.id"))
    dry_run_id: Mapped[str | None] = mapped_column(String(40))
    activated_by: Mapped[str] = mapped_column(String(160))
    activated_at: Mapped[datetime] = mapped_column(default=utcnow)


class OnboardingGeneration(Base):
    """One row (id 1): bumped with every partner or map change workers must pick up."""

    __tablename__ = "onboarding_generation"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    value: Mapped[int] = mapped_column(Integer)
