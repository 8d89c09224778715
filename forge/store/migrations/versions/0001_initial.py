"""Initial schema: targets, examples, generation runs, scenarios, ratings, effectiveness results.

Revision ID: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "targets",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("origin", sa.String(16), nullable=False),
        sa.Column("created_at", TS, nullable=False),
    )
    op.create_table(
        "examples",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("target", sa.String(64), nullable=False, index=True),
        sa.Column("prompt", sa.Text, nullable=False),
        sa.Column("success_criteria", sa.Text, nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("source_file", sa.String(512)),
        sa.Column("effectiveness_score", sa.Float),
        sa.Column("usage_count", sa.Integer, nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.UniqueConstraint("target", "fingerprint", name="uq_examples_target_fingerprint"),
    )
    op.create_table(
        "generation_runs",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("target", sa.String(64), nullable=False, index=True),
        sa.Column("backend", sa.String(32), nullable=False),
        sa.Column("model", sa.String(256), nullable=False),
        sa.Column("requested", sa.Integer, nullable=False),
        sa.Column("generated", sa.Integer, nullable=False),
        sa.Column("rejected", sa.Integer, nullable=False),
        sa.Column("rejection_reasons", sa.JSON, nullable=False),
        sa.Column("params", sa.JSON, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("error", sa.Text),
        sa.Column("started_at", TS, nullable=False),
        sa.Column("finished_at", TS),
    )
    op.create_table(
        "scenarios",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("target", sa.String(64), nullable=False, index=True),
        sa.Column("prompt", sa.Text, nullable=False),
        sa.Column("success_criteria", sa.Text, nullable=False),
        sa.Column("backend", sa.String(32), nullable=False),
        sa.Column("model", sa.String(256), nullable=False),
        sa.Column("example_ids", sa.JSON, nullable=False),
        sa.Column("params", sa.JSON, nullable=False),
        sa.Column("temperature", sa.Float),
        sa.Column("seed", sa.Integer),
        sa.Column("strategy", sa.String(16), nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("run_id", sa.Integer, sa.ForeignKey("generation_runs.id"), index=True),
        sa.Column("created_at", TS, nullable=False, index=True),
        sa.UniqueConstraint("target", "fingerprint", name="uq_scenarios_target_fingerprint"),
    )
    op.create_table(
        "ratings",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("scenario_id", sa.Integer, sa.ForeignKey("scenarios.id", ondelete="CASCADE"), nullable=False, index=True),
        sa.Column("reviewer", sa.String(128), nullable=False, index=True),
        sa.Column("stars", sa.Integer, nullable=False),
        sa.Column("note", sa.Text),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.UniqueConstraint("scenario_id", "reviewer", name="uq_ratings_scenario_reviewer"),
        sa.CheckConstraint("stars BETWEEN 1 AND 5", name="ck_ratings_stars"),
    )
    op.create_table(
        "effectiveness_results",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("scenario_id", sa.Integer, sa.ForeignKey("scenarios.id", ondelete="CASCADE"), nullable=False, index=True),
        sa.Column("ai_system", sa.String(256), nullable=False),
        sa.Column("revealed_issue", sa.Boolean, nullable=False),
        sa.Column("severity", sa.String(32)),
        sa.Column("notes", sa.Text),
        sa.Column("details", sa.JSON, nullable=False),
        sa.Column("created_at", TS, nullable=False),
    )


def downgrade() -> None:
    for table in ("effectiveness_results", "ratings", "scenarios", "generation_runs", "examples", "targets"):
        op.drop_table(table)
