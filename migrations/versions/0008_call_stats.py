"""call statistics: each call's way through the loops, and each loop's service-level target

`call.loop_path` lists every loop a call entered, with when, and "voicemail" when an overflow
sent it there; the reports measure each loop's wait from it (docs/statistics.md).
`ix_call_started` lets a report or the wallboard read one period's calls without a full scan.
`loop.service_level_seconds` is the answer time the service level counts against.

Revision ID: 0008
Revises: 0001
"""
import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("call", schema=None) as batch_op:
        batch_op.add_column(sa.Column("loop_path", sa.JSON(), nullable=True))
        batch_op.create_index("ix_call_started", ["started_at"], unique=False)
    with op.batch_alter_table("loop", schema=None) as batch_op:
        batch_op.add_column(sa.Column("service_level_seconds", sa.Integer(), nullable=False,
                                      server_default="20"))


def downgrade() -> None:
    with op.batch_alter_table("loop", schema=None) as batch_op:
        batch_op.drop_column("service_level_seconds")
    with op.batch_alter_table("call", schema=None) as batch_op:
        batch_op.drop_index("ix_call_started")
        batch_op.drop_column("loop_path")
