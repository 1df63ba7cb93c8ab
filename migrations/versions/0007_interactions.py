"""interaction history: imports, interactions with full-text search, saved searches, backtests

Revision ID: 0007_interactions
Revises: 0004_messages
Create Date: 2026-12-02 02:50:00

Full-text search is made per database: an external-content FTS5 table kept in step by
triggers on SQLite, a generated tsvector column with a GIN index on PostgreSQL.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_interactions"
down_revision = "0005_session_version"
branch_labels = None
depends_on = None


def _stamp(name: str) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=False)


def upgrade() -> None:
    op.create_table(
        "interaction_imports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("stored_path", sa.Text(), nullable=False),
        sa.Column("format", sa.String(length=8), nullable=False),
        sa.Column("compressed", sa.Boolean(), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("redact", sa.Boolean(), nullable=False),
        sa.Column("byte_offset", sa.BigInteger(), nullable=False),
        sa.Column("read_bytes", sa.BigInteger(), nullable=False),
        sa.Column("line", sa.Integer(), nullable=False),
        sa.Column("imported", sa.Integer(), nullable=False),
        sa.Column("duplicates", sa.Integer(), nullable=False),
        sa.Column("failed", sa.Integer(), nullable=False),
        sa.Column("header", sa.JSON(), nullable=True),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        _stamp("created_at"),
        _stamp("updated_at"),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name=op.f("fk_interaction_imports_created_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_interaction_imports")),
    )
    with op.batch_alter_table("interaction_imports", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_interaction_imports_status"), ["status"], unique=False)

    op.create_table(
        "interactions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("interaction_id", sa.String(length=128), nullable=False),
        sa.Column("customer_id", sa.String(length=100), nullable=False),
        _stamp("at"),
        sa.Column("category", sa.String(length=32), nullable=False),
        sa.Column("intent", sa.String(length=64), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("tone", sa.String(length=32), nullable=False),
        sa.Column("resolution", sa.String(length=32), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("body", sa.JSON(), nullable=False),
        sa.Column("import_id", sa.Integer(), nullable=True),
        sa.Column("redacted", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["import_id"],
            ["interaction_imports.id"],
            name=op.f("fk_interactions_import_id_interaction_imports"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_interactions")),
        sa.UniqueConstraint("interaction_id", name=op.f("uq_interactions_interaction_id")),
    )
    with op.batch_alter_table("interactions", schema=None) as batch_op:
        for column in (
            "customer_id",
            "at",
            "category",
            "intent",
            "channel",
            "tone",
            "resolution",
            "import_id",
        ):
            batch_op.create_index(batch_op.f(f"ix_interactions_{column}"), [column], unique=False)

    op.create_table(
        "interaction_import_problems",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("import_id", sa.Integer(), nullable=False),
        sa.Column("line", sa.Integer(), nullable=False),
        sa.Column("field", sa.String(length=200), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["import_id"],
            ["interaction_imports.id"],
            name=op.f("fk_interaction_import_problems_import_id_interaction_imports"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_interaction_import_problems")),
    )
    with op.batch_alter_table("interaction_import_problems", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_interaction_import_problems_import_id"), ["import_id"], unique=False
        )

    op.create_table(
        "saved_searches",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=True),
        _stamp("created_at"),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["users.id"], name=op.f("fk_saved_searches_owner_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_saved_searches")),
    )
    with op.batch_alter_table("saved_searches", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_saved_searches_owner_id"), ["owner_id"], unique=False)

    op.create_table(
        "backtests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("change_request_id", sa.Integer(), nullable=True),
        sa.Column("candidate", sa.String(length=32), nullable=False),
        sa.Column("slice", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("done", sa.Integer(), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("result", sa.JSON(), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        _stamp("created_at"),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["change_request_id"],
            ["change_requests.id"],
            name=op.f("fk_backtests_change_request_id_change_requests"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name=op.f("fk_backtests_created_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_backtests")),
    )
    with op.batch_alter_table("backtests", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_backtests_change_request_id"), ["change_request_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_backtests_status"), ["status"], unique=False)

    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "ALTER TABLE interactions ADD COLUMN search_vector tsvector "
            "GENERATED ALWAYS AS (to_tsvector('english', text)) STORED"
        )
        op.execute(
            "CREATE INDEX ix_interactions_search_vector ON interactions USING gin (search_vector)"
        )
    else:
        op.execute(
            "CREATE VIRTUAL TABLE interactions_fts USING fts5(text, "
            "content='interactions', content_rowid='id', "
            "tokenize='porter unicode61')"
        )
        op.execute(
            "CREATE TRIGGER interactions_fts_insert AFTER INSERT ON interactions "
            "BEGIN INSERT INTO interactions_fts(rowid, text) "
            "VALUES (new.id, new.text); END"
        )
        op.execute(
            "CREATE TRIGGER interactions_fts_delete AFTER DELETE ON interactions "
            "BEGIN INSERT INTO interactions_fts(interactions_fts, rowid, text) "
            "VALUES ('delete', old.id, old.text); END"
        )
        op.execute(
            "CREATE TRIGGER interactions_fts_update AFTER UPDATE OF text "
            "ON interactions BEGIN "
            "INSERT INTO interactions_fts(interactions_fts, rowid, text) "
            "VALUES ('delete', old.id, old.text); "
            "INSERT INTO interactions_fts(rowid, text) VALUES (new.id, new.text); END"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_interactions_search_vector")
    else:
        for trigger in ("insert", "delete", "update"):
            op.execute(f"DROP TRIGGER IF EXISTS interactions_fts_{trigger}")
        op.execute("DROP TABLE IF EXISTS interactions_fts")
    op.drop_table("backtests")
    op.drop_table("saved_searches")
    op.drop_table("interaction_import_problems")
    op.drop_table("interactions")
    op.drop_table("interaction_imports")
