"""rate-limit counters in the database: the login limit shared by every worker

Issue #13 row 14: the login limit counted in each process's memory, so four gunicorn workers
allowed four times the limit and a restart reset it. Without Redis (FIELDHAND_REDIS_URL) the
counters live here, one row per limit and client.

Revision ID: d5a8e3f0c1b7
Revises: b3f1a6c2d9e4
Create Date: 2026-11-30 17:20:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'd5a8e3f0c1b7'
down_revision = 'b3f1a6c2d9e4'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'rate_limit_counters',
        sa.Column('key', sa.String(length=512), nullable=False),
        sa.Column('count', sa.Integer(), nullable=False),
        sa.Column('expires_at', sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint('key', name=op.f('pk_rate_limit_counters')),
    )


def downgrade():
    op.drop_table('rate_limit_counters')
