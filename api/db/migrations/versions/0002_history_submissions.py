"""history of accepted cases, registry submissions, run notices

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02 02:40:00
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0002'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
JSON_DOC = sa.JSON().with_variant(postgresql.JSONB(), 'postgresql')


def upgrade() -> None:
    op.create_table('accepted_cases',
    sa.Column('id', BIG_ID, autoincrement=True, nullable=False),
    sa.Column('registry_id', BIG_ID, nullable=False),
    sa.Column('run_id', BIG_ID, nullable=False),
    sa.Column('period', sa.String(length=7), nullable=False),
    sa.Column('person', sa.String(length=64), nullable=False),
    sa.Column('lpu', sa.String(length=16), nullable=False),
    sa.Column('usl_ok', sa.Integer(), nullable=False),
    sa.Column('profil', sa.Integer(), nullable=False),
    sa.Column('idsp', sa.Integer(), nullable=True),
    sa.Column('date_z_1', sa.Date(), nullable=False),
    sa.Column('date_z_2', sa.Date(), nullable=False),
    sa.Column('rubric', sa.String(length=16), nullable=True),
    sa.Column('sump_kopecks', sa.BigInteger(), nullable=False),
    sa.Column('idcase', sa.String(length=64), nullable=False),
    sa.Column('nschet', sa.String(length=64), nullable=True),
    sa.ForeignKeyConstraint(['registry_id'], ['registries.id'], name=op.f('fk_accepted_cases_registry_id_registries'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['run_id'], ['runs.id'], name=op.f('fk_accepted_cases_run_id_runs'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_accepted_cases'))
    )
    with op.batch_alter_table('accepted_cases', schema=None) as batch_op:
        batch_op.create_index('ix_accepted_cases_lpu_period', ['lpu', 'period'], unique=False)
        batch_op.create_index('ix_accepted_cases_person', ['person'], unique=False)
        batch_op.create_index(batch_op.f('ix_accepted_cases_registry_id'), ['registry_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_accepted_cases_run_id'), ['run_id'], unique=False)

    op.create_table('registry_submissions',
    sa.Column('id', BIG_ID, autoincrement=True, nullable=False),
    sa.Column('registry_id', BIG_ID, nullable=False),
    sa.Column('mo_code', sa.String(length=16), nullable=False),
    sa.Column('period', sa.String(length=7), nullable=False),
    sa.Column('payer', sa.String(length=16), nullable=False),
    sa.Column('filename', sa.String(length=64), nullable=False),
    sa.Column('file_sha256', sa.String(length=64), nullable=False),
    sa.Column('records', sa.Integer(), nullable=False),
    sa.Column('corrections', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('notes', JSON_DOC, nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['registry_id'], ['registries.id'], name=op.f('fk_registry_submissions_registry_id_registries'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_registry_submissions'))
    )
    with op.batch_alter_table('registry_submissions', schema=None) as batch_op:
        batch_op.create_index('ix_registry_submissions_key', ['mo_code', 'period', 'payer'], unique=False)
        batch_op.create_index(batch_op.f('ix_registry_submissions_registry_id'), ['registry_id'], unique=False)

    with op.batch_alter_table('runs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('notices', JSON_DOC, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('runs', schema=None) as batch_op:
        batch_op.drop_column('notices')
    with op.batch_alter_table('registry_submissions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_registry_submissions_registry_id'))
        batch_op.drop_index('ix_registry_submissions_key')
    op.drop_table('registry_submissions')
    with op.batch_alter_table('accepted_cases', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_accepted_cases_run_id'))
        batch_op.drop_index(batch_op.f('ix_accepted_cases_registry_id'))
        batch_op.drop_index('ix_accepted_cases_person')
        batch_op.drop_index('ix_accepted_cases_lpu_period')
    op.drop_table('accepted_cases')
