"""identity rules: possible placeholders and their confirmation, failures per member and
calling number, consent's method, the member verified on the call, audit notes

Revision ID: 0004
Revises: 0003
"""
import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("member", schema=None) as batch_op:
        batch_op.add_column(sa.Column("national_id_possible_placeholder", sa.Boolean(),
                                      nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column("national_id_confirmed_hash",
                                      sqlmodel.sql.sqltypes.AutoString(length=64),
                                      nullable=True))
    with op.batch_alter_table("call_identity", schema=None) as batch_op:
        batch_op.add_column(sa.Column("self_member_id", sa.Integer(), nullable=True))
    with op.batch_alter_table("member_consent", schema=None) as batch_op:
        batch_op.add_column(sa.Column("phone_position", sa.Integer(), nullable=True))
    with op.batch_alter_table("identity_audit", schema=None) as batch_op:
        batch_op.add_column(sa.Column("note", sqlmodel.sql.sqltypes.AutoString(),
                                      nullable=True))
    op.create_table(
        "identity_failure",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("call_sid", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=True),
        sa.Column("caller_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("cleared_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("identity_failure", schema=None) as batch_op:
        batch_op.create_index("ix_identity_failure_member", ["member_id", "at"], unique=False)
        batch_op.create_index("ix_identity_failure_caller", ["caller_hash", "at"], unique=False)
        batch_op.create_index("ix_identity_failure_call", ["call_sid"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("identity_failure", schema=None) as batch_op:
        batch_op.drop_index("ix_identity_failure_call")
        batch_op.drop_index("ix_identity_failure_caller")
        batch_op.drop_index("ix_identity_failure_member")
    op.drop_table("identity_failure")
    with op.batch_alter_table("identity_audit", schema=None) as batch_op:
        batch_op.drop_column("note")
    with op.batch_alter_table("member_consent", schema=None) as batch_op:
        batch_op.drop_column("phone_position")
    with op.batch_alter_table("call_identity", schema=None) as batch_op:
        batch_op.drop_column("self_member_id")
    with op.batch_alter_table("member", schema=None) as batch_op:
        batch_op.drop_column("national_id_confirmed_hash")
        batch_op.drop_column("national_id_possible_placeholder")
