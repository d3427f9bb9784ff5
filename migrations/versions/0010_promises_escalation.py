"""tickets: promises, escalation marks, the daily look's once-a-day rows, department list views

Plain ADD COLUMN on the ticket table (no batch copy, which could lose 0005's partial index).

Revision ID: 0010
Revises: 0005
"""
import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0010"
down_revision = "0005"
branch_labels = None
depends_on = None

_STR = sqlmodel.sql.sqltypes.AutoString
_TS = sqlmodel.sql.sqltypes.UTCDateTime


def upgrade() -> None:
    op.add_column("ticket", sa.Column("parent_id", sa.Integer(), nullable=True))
    op.add_column("ticket", sa.Column("escalated_at", _TS(), nullable=True))
    op.create_index("ix_ticket_parent_id", "ticket", ["parent_id"])
    op.create_table(
        "ticket_promise",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), sa.ForeignKey("ticket.id"), nullable=False),
        sa.Column("at", _TS(), nullable=False),
        sa.Column("by_agent", _STR(length=64), nullable=False),
        sa.Column("promised_by", _TS(), nullable=False),
        sa.Column("note", _STR(), nullable=False),
        sa.Column("original_due_at", _TS(), nullable=True),
        sa.Column("late", sa.Boolean(), nullable=False),
        sa.Column("phone_task_id", sa.Integer(), nullable=True),
        sa.Column("missed_at", _TS(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_ticket_promise_ticket_id", "ticket_promise", ["ticket_id"])
    op.create_table(
        "ticket_escalation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), sa.ForeignKey("ticket.id"), nullable=False),
        sa.Column("cause", _STR(length=32), nullable=False),
        sa.Column("at", _TS(), nullable=False),
        sa.Column("owner", _STR(length=64), nullable=True),
        sa.Column("department_id", _STR(length=64), nullable=True),
        sa.Column("to_addr", _STR(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("uq_ticket_escalation", "ticket_escalation", ["ticket_id", "cause"],
                    unique=True)
    op.create_index("ix_ticket_escalation_at", "ticket_escalation", ["at"])
    op.create_table(
        "daily_look",
        sa.Column("department_id", _STR(length=64), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("at", _TS(), nullable=False),
        sa.Column("recipients", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("department_id", "day"),
    )
    op.create_table(
        "department_view",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("department_id", _STR(length=64), nullable=False),
        sa.Column("agent_id", _STR(length=64), nullable=True),
        sa.Column("at", _TS(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_department_view_at", "department_view", ["department_id", "at"])


def downgrade() -> None:
    op.drop_index("ix_department_view_at", table_name="department_view")
    op.drop_table("department_view")
    op.drop_table("daily_look")
    op.drop_index("ix_ticket_escalation_at", table_name="ticket_escalation")
    op.drop_index("uq_ticket_escalation", table_name="ticket_escalation")
    op.drop_table("ticket_escalation")
    op.drop_index("ix_ticket_promise_ticket_id", table_name="ticket_promise")
    op.drop_table("ticket_promise")
    op.drop_index("ix_ticket_parent_id", table_name="ticket")
    op.drop_column("ticket", "escalated_at")
    op.drop_column("ticket", "parent_id")
