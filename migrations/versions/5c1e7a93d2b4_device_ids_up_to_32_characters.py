"""device ids up to 32 characters: the other platforms' ids (sn, device_id) are longer than a TUID

Revision ID: 5c1e7a93d2b4
Revises: 27752e62d0ae
Create Date: 2026-11-30 12:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '5c1e7a93d2b4'
down_revision = '27752e62d0ae'
branch_labels = None
depends_on = None

# Every column that holds a device id (a TUID on Thingsee).
COLUMNS = (
    ("devices", "tuid", False),
    ("operations", "tuid", False),
    ("outbox", "tuid", False),
    ("bulk_job_items", "tuid", True),
    ("audit_events", "tuid", True),
)


def _resize(length_from, length_to):
    if op.get_bind().dialect.name == "sqlite":
        # SQLite does not enforce VARCHAR lengths, so a 32-character id already fits; recreating
        # these tables (batch mode) would only fight their foreign keys.
        return
    for table, column, nullable in COLUMNS:
        op.alter_column(
            table,
            column,
            existing_type=sa.String(length=length_from),
            type_=sa.String(length=length_to),
            existing_nullable=nullable,
        )


def upgrade():
    _resize(17, 32)


def downgrade():
    _resize(32, 17)
