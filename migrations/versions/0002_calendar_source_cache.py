"""calendar source cache: which feed or mailbox a source row belongs to, and the last ICS body

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 16:30:00
"""
import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("calendar_source", schema=None) as batch_op:
        batch_op.add_column(sa.Column("source_key", sa.String(), nullable=True))
        batch_op.add_column(sa.Column("body", sa.LargeBinary(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("calendar_source", schema=None) as batch_op:
        batch_op.drop_column("body")
        batch_op.drop_column("source_key")
