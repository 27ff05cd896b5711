"""read-backs owed per device, late-write and retry-kind marks on outbox steps

Revision ID: 5c1e0d7a9b42
Revises: 5c1e7a93d2b4
Create Date: 2026-11-23 09:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '5c1e0d7a9b42'
down_revision = '5c1e7a93d2b4'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('late_write_possible', sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.add_column(sa.Column('retry_kind', sa.String(length=16), nullable=True))

    op.create_table('device_checks',
    sa.Column('tuid', sa.String(length=32), nullable=False),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('stage', sa.Integer(), server_default='1', nullable=False),
    sa.Column('check_status', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('check_group', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('late_write_possible', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('lease_owner', sa.String(length=64), nullable=True),
    sa.Column('lease_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('attempts', sa.Integer(), server_default='0', nullable=False),
    sa.Column('retry_kind', sa.String(length=16), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('tuid', name=op.f('pk_device_checks'))
    )
    with op.batch_alter_table('device_checks', schema=None) as batch_op:
        batch_op.create_index('ix_device_checks_due_at', ['due_at'], unique=False)


def downgrade():
    with op.batch_alter_table('device_checks', schema=None) as batch_op:
        batch_op.drop_index('ix_device_checks_due_at')
    op.drop_table('device_checks')
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_column('retry_kind')
        batch_op.drop_column('late_write_possible')
