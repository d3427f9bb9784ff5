"""merge: the branches this round's packages added side by side become one line again

Each package (identity rules, tickets, accounts, audit, call statistics, the IVR's English
names, handover and claims, promises and escalation) got its own migration from a shared
parent so they could be written at once. This merge gives the history one head again, so the
next migration has one parent to name and `alembic heads` shows one revision.

Revision ID: 0011
Revises: 0002, 0004, 0006, 0007, 0008, 0009, 0010, ivr_0012
"""

revision = "0011"
down_revision = ("0002", "0004", "0006", "0007", "0008", "0009", "0010", "ivr_0012")
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Nothing to change: a merge point only."""


def downgrade() -> None:
    """Nothing to change: a merge point only."""
