"""create reviews

Revision ID: 3f1d6c2a9b80
Revises:
Create Date: 2026-11-30 03:30:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "3f1d6c2a9b80"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "reviews",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("course_id", sa.String(length=64), nullable=False),
        sa.Column("lesson_id", sa.String(length=64), nullable=True),
        sa.Column("text", sa.String(length=500), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_reviews_course_id", "reviews", ["course_id"], unique=False)
    op.create_index("ix_reviews_lesson_id", "reviews", ["lesson_id"], unique=False)


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_index("ix_reviews_lesson_id", table_name="reviews")
    op.drop_index("ix_reviews_course_id", table_name="reviews")
    op.drop_table("reviews")
