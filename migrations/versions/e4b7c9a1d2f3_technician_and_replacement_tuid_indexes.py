"""technician and replacement-TUID indexes for the history at a million operations

Measured with bench/scale.py at 1,000,000 operations (issue #16):

- operations (user_id, device_time, id): a technician's history, newest first. Without it the
  first page walked the time index testing each operation's technician: 10,600 operations
  (375 pages) read for the 50 of one technician in 200; with it, their ids from this index
  alone (33 pages).
- PostgreSQL with pg_trgm: a trigram index on the TUIDs of copy_group steps (the replacement
  device). The TUID filter's second way of matching read that partial B-tree whole, 45,000
  entries and 7,600 pages, twice a request (count and page); now 9 pages.

Revision ID: e4b7c9a1d2f3
Revises: a7d2c4e81f35
Create Date: 2026-11-30 20:30:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'e4b7c9a1d2f3'
down_revision = 'a7d2c4e81f35'
branch_labels = None
depends_on = None

COPY_GROUP = sa.text("action = 'copy_group'")


def _trigram_available(bind) -> bool:
    """Tell whether pg_trgm is installed (7c24b1c61ba7 created it where it could)."""
    if bind.dialect.name != "postgresql":
        return False
    return bool(
        bind.execute(sa.text("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'")).scalar()
    )


def upgrade():
    # Created only if missing, so an operator can build them beforehand with CREATE INDEX
    # CONCURRENTLY (same names) and keep ingest writing meanwhile.
    op.create_index(
        'ix_operations_user_time', 'operations', ['user_id', 'device_time', 'id'],
        if_not_exists=True,
    )
    if _trigram_available(op.get_bind()):
        op.create_index(
            'ix_outbox_copy_group_tuid_trgm', 'outbox', ['tuid'],
            postgresql_using='gin', postgresql_ops={'tuid': 'gin_trgm_ops'},
            postgresql_where=COPY_GROUP, if_not_exists=True,
        )


def downgrade():
    op.drop_index('ix_outbox_copy_group_tuid_trgm', table_name='outbox', if_exists=True)
    op.drop_index('ix_operations_user_time', table_name='operations')
