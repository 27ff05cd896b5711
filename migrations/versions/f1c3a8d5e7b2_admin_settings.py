"""admin settings: what an admin changes in the console (technicians creating groups), with
the FIELDHAND_ environment variable only as the default until then

Revision ID: f1c3a8d5e7b2
Revises: e4b7c1d9a2f6
Create Date: 2026-11-30 20:25:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'f1c3a8d5e7b2'
down_revision = 'e4b7c1d9a2f6'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('admin_settings',
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('value', sa.JSON(), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'], name=op.f('fk_admin_settings_updated_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_admin_settings'))
    )


def downgrade():
    op.drop_table('admin_settings')
