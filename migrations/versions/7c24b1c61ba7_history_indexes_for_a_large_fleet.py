"""history indexes for a large fleet: sort orders, group and TUID filters

Measured with bench/scale.py at 1,000,000 operations (issue #16): without these, the history's
first page, its group and TUID filters and the device timeline read every operation or every
outbox step.

- operations (device_time, id) and (received_at, id): the history's and the inbox's sort
  orders, walked in order for first pages, cursors, date ranges and deep pages.
- operations (kind, device_time, id) and (bulk_job_id, device_time, id), the latter replacing
  (bulk_job_id): an action or a bulk job's operations, newest first, and counted from the index
  alone (walking the time index for a bulk job months old read 340,000 rows).
- operations (seen_group, device_time, id), and the outbox's set_group values and copy_group
  results with their operation (partial indexes): the group filter's three ways of matching,
  each answered from an index alone, as a range or as one probe per operation.
- outbox (tuid, operation_id) for copy_group steps: a TUID substring of a replacement device,
  found by reading this small index whole (a twentieth of the steps).
- operations (error_code) where there is one: the inbox's count of repaired drift (every
  console page asks for it) read 1,000,000 operations, 53 ms of CPU.
- PostgreSQL with pg_trgm available: a trigram index for TUID substrings (three characters or
  more) on operations. Where the extension cannot be created (no right to), the substring
  search still works, by reading the table.

Revision ID: 7c24b1c61ba7
Revises: 5c1e0d7a9b42
Create Date: 2026-11-23 10:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '7c24b1c61ba7'
down_revision = '5c1e0d7a9b42'
branch_labels = None
depends_on = None

SET_GROUP = sa.text("action = 'set_group'")
COPY_GROUP = sa.text("action = 'copy_group'")


def _trigram_available(bind) -> bool:
    """Create pg_trgm if it is not there yet; tell whether it is there now."""
    if bind.dialect.name != "postgresql":
        return False
    if not bind.execute(
        sa.text("SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm'")
    ).scalar():
        return False
    savepoint = bind.begin_nested()
    try:
        bind.execute(sa.text("CREATE EXTENSION IF NOT EXISTS pg_trgm"))
    except sa.exc.DBAPIError:  # e.g. the app's role may not create extensions
        savepoint.rollback()
        return False
    savepoint.commit()
    return True


# Operations' indexes: (name, columns). Each is created only if missing, so an operator can build
# them beforehand with CREATE INDEX CONCURRENTLY (same names) and keep ingest writing meanwhile.
OPERATIONS = (
    ('ix_operations_device_time_id', ['device_time', 'id']),
    ('ix_operations_received_at_id', ['received_at', 'id']),
    ('ix_operations_kind_time', ['kind', 'device_time', 'id']),
    ('ix_operations_bulk_job_time', ['bulk_job_id', 'device_time', 'id']),
    ('ix_operations_seen_group_time', ['seen_group', 'device_time', 'id']),
)
HAS_ERROR = sa.text("error_code IS NOT NULL")
# The outbox's partial indexes: (name, columns, condition).
OUTBOX = (
    ('ix_outbox_set_group_value', ['value', 'operation_id'], SET_GROUP),
    ('ix_outbox_copy_group_result', ['result', 'operation_id'], COPY_GROUP),
    ('ix_outbox_copy_group_tuid', ['tuid', 'operation_id'], COPY_GROUP),
)


def upgrade():
    for name, columns in OPERATIONS:
        op.create_index(name, 'operations', columns, if_not_exists=True)
    op.create_index(
        'ix_operations_error_code', 'operations', ['error_code'],
        postgresql_where=HAS_ERROR, sqlite_where=HAS_ERROR, if_not_exists=True,
    )
    # (bulk_job_id, device_time, id) answers everything (bulk_job_id) did.
    op.drop_index('ix_operations_bulk_job_id', table_name='operations', if_exists=True)
    for name, columns, condition in OUTBOX:
        op.create_index(
            name, 'outbox', columns, postgresql_where=condition, sqlite_where=condition,
            if_not_exists=True,
        )
    if _trigram_available(op.get_bind()):
        op.create_index(
            'ix_operations_tuid_trgm', 'operations', ['tuid'],
            postgresql_using='gin', postgresql_ops={'tuid': 'gin_trgm_ops'}, if_not_exists=True,
        )


def downgrade():
    # The extension stays: other database objects may use it, and it costs nothing idle.
    op.drop_index('ix_operations_tuid_trgm', table_name='operations', if_exists=True)
    for name, _, _ in OUTBOX:
        op.drop_index(name, table_name='outbox')
    op.create_index('ix_operations_bulk_job_id', 'operations', ['bulk_job_id'])
    op.drop_index('ix_operations_error_code', table_name='operations')
    for name, _ in OPERATIONS:
        op.drop_index(name, table_name='operations')
