"""a loop's English name, and when a call was answered

`loop.name_en` is what an English-speaking caller hears for the loop ("putting you through
to …"); the Norwegian `name` when it is empty. `call.answered_at` is when the agent in
`call.answered_by` confirmed the call (the desk's screen pop shows how long it has lasted).

Revision ID: ivr_0012
Revises: 0001
"""
import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "ivr_0012"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("loop", schema=None) as batch_op:
        batch_op.add_column(sa.Column("name_en", sqlmodel.sql.sqltypes.AutoString(),
                                      nullable=True))
    with op.batch_alter_table("call", schema=None) as batch_op:
        batch_op.add_column(sa.Column("answered_at", sqlmodel.sql.sqltypes.UTCDateTime(),
                                      nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("call", schema=None) as batch_op:
        batch_op.drop_column("answered_at")
    with op.batch_alter_table("loop", schema=None) as batch_op:
        batch_op.drop_column("name_en")
