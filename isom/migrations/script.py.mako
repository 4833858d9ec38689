"""${message} (revision ${up_revision}, after ${down_revision | comma,n})"""

import sqlalchemy as sa
from alembic import op

import isom.types
${imports if imports else ""}

revision: str = ${repr(up_revision)}
down_revision: str | None = ${repr(down_revision)}


def upgrade() -> None:
    ${upgrades if upgrades else "pass"}


def downgrade() -> None:
    ${downgrades if downgrades else "pass"}
