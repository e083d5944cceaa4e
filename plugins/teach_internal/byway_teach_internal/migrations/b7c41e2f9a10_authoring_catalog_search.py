"""authoring, catalogue facets and full-text search

Course category/difficulty/cover, lesson type/duration/video, unique dense positions, and the
catalogue's full-text index in each database's own engine:

* SQLite: an FTS5 external-content table ``courses_fts`` over ``courses(title, description)``,
  kept in step by triggers on every insert, update and delete, and rebuilt from the table here.
* Postgres: a stored generated ``tsvector`` column ``search_vector`` (title weighted above
  description) with a GIN index.

Revision ID: b7c41e2f9a10
Revises: a0d5a186c3d1
Create Date: 2026-11-30 03:40:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "b7c41e2f9a10"
down_revision: str | Sequence[str] | None = "a0d5a186c3d1"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SQLITE_UP = [
    "CREATE VIRTUAL TABLE courses_fts USING fts5("
    "title, description, content='courses', content_rowid='rowid', tokenize='porter unicode61 remove_diacritics 2')",
    "CREATE TRIGGER courses_fts_ai AFTER INSERT ON courses BEGIN "
    "INSERT INTO courses_fts(rowid, title, description) VALUES (new.rowid, new.title, new.description); END",
    "CREATE TRIGGER courses_fts_ad AFTER DELETE ON courses BEGIN "
    "INSERT INTO courses_fts(courses_fts, rowid, title, description) "
    "VALUES ('delete', old.rowid, old.title, old.description); END",
    "CREATE TRIGGER courses_fts_au AFTER UPDATE OF title, description ON courses BEGIN "
    "INSERT INTO courses_fts(courses_fts, rowid, title, description) "
    "VALUES ('delete', old.rowid, old.title, old.description); "
    "INSERT INTO courses_fts(rowid, title, description) VALUES (new.rowid, new.title, new.description); END",
    "INSERT INTO courses_fts(courses_fts) VALUES ('rebuild')",
]
SQLITE_DOWN = [
    "DROP TRIGGER IF EXISTS courses_fts_au",
    "DROP TRIGGER IF EXISTS courses_fts_ad",
    "DROP TRIGGER IF EXISTS courses_fts_ai",
    "DROP TABLE IF EXISTS courses_fts",
]
POSTGRES_UP = [
    "ALTER TABLE courses ADD COLUMN search_vector tsvector GENERATED ALWAYS AS ("
    "setweight(to_tsvector('english', coalesce(title, '')), 'A') || "
    "setweight(to_tsvector('english', coalesce(description, '')), 'B')) STORED",
    "CREATE INDEX ix_courses_search_vector ON courses USING gin (search_vector)",
]
POSTGRES_DOWN = [
    "DROP INDEX IF EXISTS ix_courses_search_vector",
    "ALTER TABLE courses DROP COLUMN IF EXISTS search_vector",
]


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table("courses", schema=None) as batch_op:
        batch_op.add_column(sa.Column("category", sa.String(length=60), nullable=True))
        batch_op.add_column(sa.Column("difficulty", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("cover_url", sa.String(length=2000), nullable=True))
    with op.batch_alter_table("lessons", schema=None) as batch_op:
        batch_op.add_column(sa.Column("type", sa.String(length=8), server_default="TEXT", nullable=False))
        batch_op.add_column(sa.Column("duration", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("video_url", sa.String(length=2000), nullable=True))
    op.create_index("uq_lessons_module_position", "lessons", ["module_id", "position"], unique=True)
    op.create_index("uq_modules_course_position", "modules", ["course_id", "position"], unique=True)
    dialect = op.get_bind().dialect.name
    for statement in {"sqlite": SQLITE_UP, "postgresql": POSTGRES_UP}.get(dialect, []):
        op.execute(statement)


def downgrade() -> None:
    """Downgrade schema."""
    dialect = op.get_bind().dialect.name
    # The full-text index goes first: batch mode recreates ``courses`` on SQLite.
    for statement in {"sqlite": SQLITE_DOWN, "postgresql": POSTGRES_DOWN}.get(dialect, []):
        op.execute(statement)
    op.drop_index("uq_modules_course_position", table_name="modules")
    op.drop_index("uq_lessons_module_position", table_name="lessons")
    with op.batch_alter_table("lessons", schema=None) as batch_op:
        batch_op.drop_column("video_url")
        batch_op.drop_column("duration")
        batch_op.drop_column("type")
    with op.batch_alter_table("courses", schema=None) as batch_op:
        batch_op.drop_column("cover_url")
        batch_op.drop_column("difficulty")
        batch_op.drop_column("category")
