"""outbox steps note what they overwrote: the platform's value just before the write, read by
the worker when the phone did not know it, so an undo can restore it

Revision ID: e4b7c1d9a2f6
Revises: e4b7c9a1d2f3
Create Date: 2026-11-30 20:10:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'e4b7c1d9a2f6'
down_revision = 'e4b7c9a1d2f3'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.add_column(sa.Column('overwrote', sa.String(length=64), nullable=True))


def downgrade():
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_column('overwrote')
