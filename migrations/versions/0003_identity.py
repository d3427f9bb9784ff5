"""identity: member register, phones, per-call script state, consents, audit log

Revision ID: 0003
Revises: 0001
"""
import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0003"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "member",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("membership_number", sqlmodel.sql.sqltypes.AutoString(length=32),
                  nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("birth_date", sa.Date(), nullable=True),
        sa.Column("national_id_hash", sqlmodel.sql.sqltypes.AutoString(length=64),
                  nullable=True),
        sa.Column("national_id_masked", sqlmodel.sql.sqltypes.AutoString(length=16),
                  nullable=True),
        sa.Column("needs_correction", sa.Boolean(), nullable=False),
        sa.Column("email", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("address", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("postal_code", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
        sa.Column("city", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("returned_mail", sa.Boolean(), nullable=False),
        sa.Column("branch", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("member", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_member_membership_number"), ["membership_number"],
                              unique=True)
        batch_op.create_index(batch_op.f("ix_member_national_id_hash"), ["national_id_hash"],
                              unique=False)

    op.create_table(
        "member_phone",
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("e164", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["member_id"], ["member.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("member_id", "e164"),
    )
    with op.batch_alter_table("member_phone", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_member_phone_e164"), ["e164"], unique=False)

    op.create_table(
        "call_identity",
        sa.Column("call_sid", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("script", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("step", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=True),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("level", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("factors", sa.JSON(), nullable=False),
        sa.Column("consent_id", sa.Integer(), nullable=True),
        sa.Column("callback_offered", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("call_sid"),
    )

    op.create_table(
        "member_consent",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("call_sid", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("given_to", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("scope", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("method", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("agent_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("given_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["member_id"], ["member.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("member_consent", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_member_consent_call_sid"), ["call_sid"],
                              unique=False)
        batch_op.create_index(batch_op.f("ix_member_consent_member_id"), ["member_id"],
                              unique=False)

    op.create_table(
        "identity_audit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("agent_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("call_sid", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("script", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("action", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("factors", sa.JSON(), nullable=False),
        sa.Column("outcome", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("identity_audit", schema=None) as batch_op:
        batch_op.create_index("ix_identity_audit_call", ["call_sid", "at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("identity_audit", schema=None) as batch_op:
        batch_op.drop_index("ix_identity_audit_call")
    op.drop_table("identity_audit")
    with op.batch_alter_table("member_consent", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_member_consent_member_id"))
        batch_op.drop_index(batch_op.f("ix_member_consent_call_sid"))
    op.drop_table("member_consent")
    op.drop_table("call_identity")
    with op.batch_alter_table("member_phone", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_member_phone_e164"))
    op.drop_table("member_phone")
    with op.batch_alter_table("member", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_member_national_id_hash"))
        batch_op.drop_index(batch_op.f("ix_member_membership_number"))
    op.drop_table("member")
