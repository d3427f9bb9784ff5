"""tickets: absence handover notes, callback attempts and outcomes, the purge mark, agent cover

Plain ADD COLUMN (no batch copy of the ticket table): SQLite adds nullable or defaulted
columns in place, and a batch copy could lose the partial unique index of 0005.

Revision ID: 0009
Revises: 0005
"""
import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0009"
down_revision = "0005"
branch_labels = None
depends_on = None

_STR = sqlmodel.sql.sqltypes.AutoString
_TS = sqlmodel.sql.sqltypes.UTCDateTime


def upgrade() -> None:
    op.add_column("agent", sa.Column("cover", _STR(length=64), nullable=True))
    op.add_column("ticket", sa.Column("attempts", sa.Integer(), nullable=False,
                                      server_default="0"))
    op.add_column("ticket", sa.Column("last_attempt_at", _TS(), nullable=True))
    op.add_column("ticket", sa.Column("outcome", _STR(length=32), nullable=True))
    op.add_column("ticket", sa.Column("purged_at", _TS(), nullable=True))
    op.create_table(
        "handover",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("from_agent", _STR(length=64), nullable=False),
        sa.Column("to_agent", _STR(length=64), nullable=True),
        sa.Column("at", _TS(), nullable=False),
        sa.Column("reason", _STR(length=32), nullable=True),
        sa.Column("items", sa.JSON(), nullable=False),
        sa.Column("confirmed_at", _TS(), nullable=True),
        sa.Column("escalated_at", _TS(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_handover_to", "handover", ["to_agent", "confirmed_at"])
    op.create_index("ix_handover_from", "handover", ["from_agent", "at"])


def downgrade() -> None:
    op.drop_index("ix_handover_from", table_name="handover")
    op.drop_index("ix_handover_to", table_name="handover")
    op.drop_table("handover")
    for col in ("purged_at", "outcome", "last_attempt_at", "attempts"):
        op.drop_column("ticket", col)
    op.drop_column("agent", "cover")
