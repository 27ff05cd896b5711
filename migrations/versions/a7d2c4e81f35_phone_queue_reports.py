"""phone queue reports: each phone's pending, oldest unsynced, failed and app version

Revision ID: a7d2c4e81f35
Revises: 9a3f1e6c2b70
Create Date: 2026-11-30 17:20:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a7d2c4e81f35'
down_revision = '9a3f1e6c2b70'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('phone_queue_reports',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('phone_id', sa.String(length=40), nullable=False),
    sa.Column('pending', sa.Integer(), nullable=False),
    sa.Column('failed', sa.Integer(), nullable=False),
    sa.Column('oldest_unsynced_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('app_version', sa.String(length=32), nullable=True),
    sa.Column('reported_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_contact_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_phone_queue_reports_user_id_users')),
    sa.PrimaryKeyConstraint('user_id', 'phone_id', name=op.f('pk_phone_queue_reports'))
    )
    with op.batch_alter_table('phone_queue_reports', schema=None) as batch_op:
        batch_op.create_index('ix_phone_queue_reports_contact', ['last_contact_at'], unique=False)


def downgrade():
    op.drop_table('phone_queue_reports')
