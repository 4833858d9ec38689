"""distribution centre: despatch advice by SSCC, customers' shipping terms, waves"""

from alembic import op

from isom.migrations.columns import ref, table, unique

revision: str = "0017"
down_revision: str | None = "0016"


def upgrade() -> None:
    _dc_wave()
    _dc_advice()
    _dc_customer_terms()
    _dc_advised_pallet()
    _dc_advised_case()
    _dc_wave_order()


def _dc_wave() -> None:
    table(
        "dc_wave",
        """
        id          integer
        number      string 40
        carrier     string 40
        cutoff      moment
        status      enum wavestatus released picking shipped
        created_at  moment
        created_by  string 100
        """,
        unique("number"),
        index=("status",),
    )


def _dc_advice() -> None:
    table(
        "dc_advice",
        """
        id           integer
        number       string 64
        supplier_id  integer null
        source       string 10
        created_at   moment
        created_by   string 100
        """,
        ref("supplier_id", "md_supplier"),
        unique("number"),
    )


def _dc_customer_terms() -> None:
    table(
        "dc_customer_terms",
        """
        id           integer
        customer_id  integer
        carrier      string 40
        cutoff       string 5
        gs1_labels   flag
        """,
        ref("customer_id", "md_customer"),
        unique("customer_id"),
    )


def _dc_advised_pallet() -> None:
    table(
        "dc_advised_pallet",
        """
        id                 integer
        advice_id          integer
        sscc               string 18
        status             enum palletstatus advised received
        received_event_id  serial null
        received_at        moment null
        received_by        string 100 null
        differences        document
        """,
        ref("advice_id", "dc_advice"),
        ref("received_event_id", "ledger_event"),
        unique("sscc"),
        index=("advice_id", "status"),
    )


def _dc_advised_case() -> None:
    table(
        "dc_advised_case",
        """
        id           integer
        pallet_id    integer
        case_code    string 64
        item_id      integer
        lot          string 64 null
        expiry_date  date null
        quantity     exact
        unit_cost    exact
        """,
        ref("item_id", "md_item"),
        ref("pallet_id", "dc_advised_pallet"),
        index=("pallet_id",),
    )


def _dc_wave_order() -> None:
    table(
        "dc_wave_order",
        """
        id             integer
        wave_id        integer
        ship_order_id  integer
        tote           string 64 null
        package        string 64 null
        """,
        ref("ship_order_id", "ord_ship_order"),
        ref("wave_id", "dc_wave"),
        unique("ship_order_id"),
        index=("wave_id",),
    )


def downgrade() -> None:
    with op.batch_alter_table("dc_wave_order", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_dc_wave_order_wave_id"))

    op.drop_table("dc_wave_order")
    with op.batch_alter_table("dc_advised_case", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_dc_advised_case_pallet_id"))

    op.drop_table("dc_advised_case")
    with op.batch_alter_table("dc_advised_pallet", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_dc_advised_pallet_status"))
        batch_op.drop_index(batch_op.f("ix_dc_advised_pallet_advice_id"))

    op.drop_table("dc_advised_pallet")
    op.drop_table("dc_customer_terms")
    op.drop_table("dc_advice")
    with op.batch_alter_table("dc_wave", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_dc_wave_status"))

    op.drop_table("dc_wave")
