"""Read functions the API, pages and CLI share: projection, shortages and netting as views."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy.orm import Session

from isom.masterdata import services as md
from isom.masterdata.models import Unit
from isom.planning import netting, projection, sources
from isom.planning.schemas import (
    LateSupplyView,
    NetView,
    PegView,
    PlannedOrderView,
    ProjectionEntry,
    ProjectionView,
    ShortageRow,
)


def projection_view(session: Session, item_code: str, today: dt.date) -> ProjectionView:
    """An item's projection computed now from the current stock, orders and jobs."""
    item = md.get_item(session, item_code)
    unit = session.get(Unit, item.base_unit_id)
    p = projection.item_projection(session, item.id, today)
    cut = sources.cut_lengths(session, {item.id}).get(item.id)
    return ProjectionView(
        item=item.code,
        unit=unit.code if unit else "",
        today=today,
        on_hand=p.on_hand,
        end_quantity=p.end_quantity,
        first_shortage_date=p.first_shortage_date,
        shortage_quantity=p.shortage_quantity,
        entries=[
            ProjectionEntry(
                date=dt.date.fromisoformat(e["date"]),
                kind=e["kind"],
                ref=e["ref"],
                quantity=Decimal(e["quantity"]),
                balance=Decimal(e["balance"]),
            )
            for e in p.entries
        ],
        pegging=[PegView.model_validate(g, from_attributes=True) for g in p.pegging],
        piece_length=cut,
        shortage_pieces=sources.pieces(p.shortage_quantity, cut) if cut else None,
    )


def shortage_rows(session: Session) -> list[ShortageRow]:
    """Items whose stored projection goes short, earliest first (cut material in pieces too)."""
    cuts = sources.cut_lengths(session)
    return [
        ShortageRow(
            item=code,
            first_shortage_date=p.first_shortage_date,
            shortage_quantity=p.shortage_quantity,
            on_hand=p.on_hand,
            computed_at=p.computed_at,
            piece_length=cuts.get(p.item_id),
            shortage_pieces=sources.pieces(p.shortage_quantity, cuts[p.item_id])
            if p.item_id in cuts
            else None,
        )
        for code, p in projection.shortages(session)
        if p.first_shortage_date is not None
    ]


def net_view(session: Session, today: dt.date) -> NetView:
    """Net requirements over every level: planned jobs and purchases, and late supply."""
    result = netting.net(session, today)
    codes = sources.item_codes(session)
    return NetView(
        today=today,
        planned=[
            PlannedOrderView(
                item=codes[o.item_id],
                action="make" if o.make else "buy",
                quantity=sources.exact(o.quantity),
                due_date=o.due_date,
                demand=o.demand.ref,
                parent_item=codes[o.parent.item_id] if o.parent else None,
                parent_step=o.parent_step,
            )
            for o in result.planned
        ],
        late=[
            LateSupplyView(item=codes[i], demand=d, supply=s, needed=n, arrives=a)
            for i, d, s, n, a in result.late
        ],
    )
