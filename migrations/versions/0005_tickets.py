"""tickets: departments, the ticket's new fields, its timeline (ticket_event) and the mail outbox

The ticket table's unique call_sid becomes a partial unique index over callback tickets only, so
several messages may come from one call while a retried webhook still makes one callback.

Revision ID: 0005
Revises: 0001
"""
import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0005"
down_revision = "0001"
branch_labels = None
depends_on = None

_STR = sqlmodel.sql.sqltypes.AutoString
_TS = sqlmodel.sql.sqltypes.UTCDateTime
_CALLBACK = sa.text("kind = 'callback'")


def upgrade() -> None:
    op.create_table(
        "department",
        sa.Column("id", _STR(length=64), nullable=False),
        sa.Column("name", _STR(), nullable=False),
        sa.Column("email", _STR(), nullable=False),
        sa.Column("deadline", _STR(), nullable=False),
        sa.Column("escalation", _STR(), nullable=True),
        sa.Column("members", sa.JSON(), nullable=False),
        sa.Column("loops", sa.JSON(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    # The unnamed unique constraint of 0001 gets a name on SQLite through the convention.
    naming = {"uq": "uq_%(table_name)s_%(column_0_name)s"}
    is_pg = op.get_bind().dialect.name == "postgresql"
    if is_pg:
        op.drop_constraint("ticket_call_sid_key", "ticket", type_="unique")
    with op.batch_alter_table("ticket", naming_convention=naming) as batch:
        if not is_pg:
            batch.drop_constraint("uq_ticket_call_sid", type_="unique")
        batch.add_column(sa.Column("department_id", _STR(length=64), nullable=True))
        batch.add_column(sa.Column("category", _STR(), nullable=True))
        batch.add_column(sa.Column("text", _STR(), nullable=False, server_default=""))
        batch.add_column(sa.Column("member_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("verification_level", _STR(), nullable=True))
        batch.add_column(sa.Column("follow_up", _STR(), nullable=False, server_default="none"))
        batch.add_column(sa.Column("confirm_to_agent", sa.Boolean(), nullable=False,
                                   server_default=sa.false()))
        batch.add_column(sa.Column("due_at", _TS(), nullable=True))
        batch.add_column(sa.Column("owner", _STR(length=64), nullable=True))
        batch.add_column(sa.Column("version", sa.Integer(), nullable=False, server_default="1"))
        batch.add_column(sa.Column("created_by", _STR(length=64), nullable=True))
        batch.add_column(sa.Column("updated_at", _TS(), nullable=True))
    op.create_index("uq_ticket_callback_call", "ticket", ["call_sid"], unique=True,
                    sqlite_where=_CALLBACK, postgresql_where=_CALLBACK)
    op.create_index("ix_ticket_department_due", "ticket", ["department_id", "status", "due_at"])
    op.create_table(
        "ticket_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("at", _TS(), nullable=False),
        sa.Column("actor", _STR(length=64), nullable=True),
        sa.Column("kind", _STR(), nullable=False),
        sa.Column("old", _STR(), nullable=True),
        sa.Column("new", _STR(), nullable=True),
        sa.Column("note", _STR(), nullable=True),
        sa.ForeignKeyConstraint(["ticket_id"], ["ticket.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_ticket_event_ticket_id", "ticket_event", ["ticket_id"])
    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=True),
        sa.Column("to_addr", _STR(), nullable=False),
        sa.Column("subject", _STR(), nullable=False),
        sa.Column("body", _STR(), nullable=False),
        sa.Column("created_at", _TS(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", _TS(), nullable=False),
        sa.Column("last_error", _STR(), nullable=True),
        sa.Column("sent_at", _TS(), nullable=True),
        sa.ForeignKeyConstraint(["ticket_id"], ["ticket.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_outbox_pending", "outbox", ["sent_at", "next_attempt_at"])


def downgrade() -> None:
    op.drop_index("ix_outbox_pending", table_name="outbox")
    op.drop_table("outbox")
    op.drop_index("ix_ticket_event_ticket_id", table_name="ticket_event")
    op.drop_table("ticket_event")
    op.drop_index("ix_ticket_department_due", table_name="ticket")
    op.drop_index("uq_ticket_callback_call", table_name="ticket")
    with op.batch_alter_table("ticket") as batch:
        for col in ("updated_at", "created_by", "version", "owner", "due_at", "confirm_to_agent",
                    "follow_up", "verification_level", "member_id", "text", "category",
                    "department_id"):
            batch.drop_column(col)
        batch.create_unique_constraint("ticket_call_sid_key", ["call_sid"])
    op.drop_table("department")
