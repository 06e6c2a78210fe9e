"""Filed complaints: tracking numbers, look-ups, the registry polls.

Every function takes an open Session and none commits (see ``storage.repository``)."""
from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import date, datetime
from typing import Any, Protocol

from sqlalchemy import exists, or_, select
from sqlalchemy.orm import Session

from storage import tracking
from storage.models import (
    Complaint,
)
from storage.repository.common import is_postgres

__all__ = [
    "ComplaintFields",
    "FINAL_STATUSES",
    "add_complaint",
    "complaint_by_tracking",
    "complaints_to_poll",
    "iter_complaints",
    "lock_complaint",
    "new_tracking_number",
]


class ComplaintFields(Protocol):
    """The typed complaint fields ``add_complaint`` reads (bot.complaints.ComplaintFields has them)."""

    @property
    def type(self) -> str: ...
    @property
    def title(self) -> str: ...
    @property
    def description(self) -> str: ...
    @property
    def category(self) -> str: ...
    @property
    def category_code(self) -> str | None: ...
    @property
    def agency(self) -> str | None: ...
    @property
    def location_text(self) -> str: ...
    @property
    def latitude(self) -> float | None: ...
    @property
    def longitude(self) -> float | None: ...
    @property
    def region(self) -> Mapping[str, Any]: ...
    @property
    def incident_date(self) -> date | None: ...
    @property
    def attachments(self) -> Sequence[Mapping[str, Any]]: ...
    @property
    def anonymous(self) -> bool: ...
    @property
    def confidential(self) -> bool: ...


def new_tracking_number(session: Session) -> str:
    """A random ``LAP-XXXXXX`` that no complaint has yet (drawn again on a clash).

    Two transactions could still draw the same fresh number at the same moment (odds about one
    in a billion); the unique constraint then fails the later commit, and the caller retries.
    """
    while True:
        number = tracking.random_tracking_number()
        if not session.scalar(select(exists().where(Complaint.tracking_number == number))):
            return number


def add_complaint(session: Session, *, contact_id: int, conversation_id: int | None, channel: str,
                  language: str, fields: ComplaintFields, answers: dict[str, Any],
                  reporter_name_enc: bytes | None, now: datetime) -> Complaint:
    """File a complaint with a new tracking number and status "queued" (not yet submitted)."""
    complaint = Complaint(
        tracking_number=new_tracking_number(session), contact_id=contact_id, conversation_id=conversation_id,
        channel=channel, language=language, type=fields.type, title=fields.title[:200],
        description=fields.description, category=fields.category, category_code=fields.category_code,
        agency=fields.agency, location_text=fields.location_text, latitude=fields.latitude,
        longitude=fields.longitude, region=dict(fields.region),
        province_code=(fields.region.get("province") or {}).get("code"),
        regency_code=(fields.region.get("regency") or {}).get("code"), incident_date=fields.incident_date,
        anonymous=fields.anonymous, confidential=fields.confidential, reporter_name_enc=reporter_name_enc,
        attachments=[dict(item) for item in fields.attachments], answers=answers, status="queued", created_at=now,
        updated_at=now,
    )
    session.add(complaint)
    session.flush()
    return complaint


def complaint_by_tracking(session: Session, number: str) -> Complaint | None:
    """The complaint with this canonical tracking number (see ``normalize_tracking_number``)."""
    return session.scalars(select(Complaint).where(Complaint.tracking_number == number)).one_or_none()


def recent_complaints(session: Session, contact_id: int, limit: int = 5) -> Sequence[Complaint]:
    """The contact's latest complaints, newest first (one indexed query)."""
    return session.scalars(select(Complaint).where(Complaint.contact_id == contact_id)
                           .order_by(Complaint.created_at.desc(), Complaint.id.desc()).limit(limit)).all()


FINAL_STATUSES = ("resolved", "rejected")


def complaints_to_poll(session: Session, *, checked_before: datetime, limit: int) -> list[Complaint]:
    """Complaints at a polled registry (with an id or a token) that are not final and were not
    checked since ``checked_before``; never-checked first."""
    return list(session.scalars(
        select(Complaint)
        .where(or_(Complaint.registry_id.is_not(None), Complaint.registry_token.is_not(None)),
               Complaint.status.not_in(FINAL_STATUSES),
               or_(Complaint.registry_checked_at.is_(None), Complaint.registry_checked_at < checked_before))
        .order_by(Complaint.registry_checked_at.is_not(None), Complaint.registry_checked_at, Complaint.id)
        .limit(limit)
    ))


def lock_complaint(session: Session, complaint_id: int) -> Complaint:
    """The complaint, row-locked until the transaction ends (PostgreSQL), so two pollers never
    both announce the same change."""
    query = select(Complaint).where(Complaint.id == complaint_id).execution_options(populate_existing=True)
    if is_postgres(session):
        query = query.with_for_update()
    return session.scalars(query).one()


def iter_complaints(session: Session) -> Iterator[Complaint]:
    """Every complaint, oldest first, fetched in batches."""
    return iter(session.scalars(select(Complaint).order_by(Complaint.id).execution_options(yield_per=500)))
