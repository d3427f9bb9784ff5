"""accounts: agents' access level, password hashes, web sessions, sign-in failures, desk stops

Revision ID: 0006
Revises: 0001
"""
import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0006"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("agent", schema=None) as batch_op:
        batch_op.add_column(sa.Column("access", sqlmodel.sql.sqltypes.AutoString(length=16),
                                      nullable=False, server_default="agent"))
    op.create_table(
        "agent_credential",
        sa.Column("agent_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("password_hash", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("changed_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("agent_id"),
    )
    op.create_table(
        "web_session",
        sa.Column("token_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("agent_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("expires_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("token_hash"),
    )
    op.create_index("ix_web_session_agent_id", "web_session", ["agent_id"])
    op.create_table(
        "login_failure",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
        sa.Column("at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_login_failure_key", "login_failure", ["key"])
    op.create_table(
        "desk_stop",
        sa.Column("agent_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("until", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("agent_id"),
    )


def downgrade() -> None:
    op.drop_table("desk_stop")
    op.drop_index("ix_login_failure_key", table_name="login_failure")
    op.drop_table("login_failure")
    op.drop_index("ix_web_session_agent_id", table_name="web_session")
    op.drop_table("web_session")
    op.drop_table("agent_credential")
    with op.batch_alter_table("agent", schema=None) as batch_op:
        batch_op.drop_column("access")
