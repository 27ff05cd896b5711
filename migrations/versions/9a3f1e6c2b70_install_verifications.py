"""install verifications: did each installed device report after it was installed

Revision ID: 9a3f1e6c2b70
Revises: d5a8e3f0c1b7
Create Date: 2026-11-30 17:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '9a3f1e6c2b70'
down_revision = 'd5a8e3f0c1b7'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('install_verifications',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('operation_id', sa.Integer(), nullable=False),
    sa.Column('tuid', sa.String(length=32), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('group_id', sa.String(length=64), nullable=True),
    sa.Column('device_type', sa.String(length=32), nullable=False),
    sa.Column('installed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('deadline_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('looks', sa.Integer(), nullable=False),
    sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('battery_level', sa.Integer(), nullable=True),
    sa.Column('verified_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('silent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('late_looks_left', sa.Integer(), nullable=False),
    sa.Column('lease_owner', sa.String(length=64), nullable=True),
    sa.Column('lease_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('failures', sa.Integer(), nullable=False),
    sa.Column('retry_kind', sa.String(length=16), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['operation_id'], ['operations.id'], name=op.f('fk_install_verifications_operation_id_operations')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_install_verifications_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_install_verifications')),
    sa.UniqueConstraint('operation_id', name=op.f('uq_install_verifications_operation_id'))
    )
    with op.batch_alter_table('install_verifications', schema=None) as batch_op:
        batch_op.create_index('ix_install_verifications_due', ['due_at'], unique=False, postgresql_where=sa.text('due_at IS NOT NULL'), sqlite_where=sa.text('due_at IS NOT NULL'))
        batch_op.create_index('ix_install_verifications_tuid', ['tuid', 'installed_at'], unique=False)
        batch_op.create_index('ix_install_verifications_state', ['state', 'installed_at'], unique=False)
        batch_op.create_index('ix_install_verifications_group', ['group_id', 'state'], unique=False)
        batch_op.create_index('ix_install_verifications_user', ['user_id', 'state'], unique=False)


def downgrade():
    op.drop_table('install_verifications')
