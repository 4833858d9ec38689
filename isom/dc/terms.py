"""Customers' shipping terms at the DC: carrier, daily cut-off and GS1 labels."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from isom.dc.models import CustomerTerms
from isom.ledger.schemas import Code
from isom.masterdata import services as md


class TermsIn(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    customer: Code
    carrier: str = Field(min_length=1, max_length=40)
    cutoff: str = Field(pattern=r"^([01]\d|2[0-3]):[0-5]\d$", description="HH:MM, site time")
    gs1_labels: bool = False


def terms_of(session: Session, customer_id: int) -> CustomerTerms | None:
    """A customer's terms, or None when it has none (no wave, plain labels)."""
    return session.scalar(select(CustomerTerms).where(CustomerTerms.customer_id == customer_id))


def set_terms(session: Session, data: TermsIn) -> CustomerTerms:
    """Set (or change) a customer's carrier, cut-off and label wish."""
    customer = md.get_customer(session, data.customer)
    row = terms_of(session, customer.id)
    if row is None:
        row = CustomerTerms(customer_id=customer.id)
        session.add(row)
    row.carrier, row.cutoff, row.gs1_labels = data.carrier, data.cutoff, data.gs1_labels
    session.flush()
    return row
