"""The interaction history's background jobs, imported by the app factory so they are
registered before the queue is built: import, retention, backtest."""

from __future__ import annotations

from studio.services import backtests, interaction_import, retention

JOB_NAMES = (
    interaction_import.import_job.__name__,
    retention.retention_job.__name__,
    backtests.backtest_job.__name__,
)
