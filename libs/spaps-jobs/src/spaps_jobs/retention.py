"""Retention of finished rows: the target protocol, the runner and its Celery task.

The same names as the package exports (``from spaps_jobs import Retention`` works too);
this module is the contract's home, ``spaps_jobs.retention``. Other libraries need not
import it: a retention target is any object with the :class:`RetentionTarget` shape::

    retention = Retention(async_engine, keep={"jobs.outbox": timedelta(days=3)})
    retention.register(outbox.retention(), inbox.retention(), auth_sessions_target)
    report = await retention.purge("jobs.outbox")

.. versionadded:: 0.5.0
"""

from __future__ import annotations

from ._errors import RetentionTargetNotFoundError
from ._retention import PurgeReport, Retention, RetentionTarget
from ._retention_task import BatchProgress, install_retention, purge_targets

__all__ = [
    "BatchProgress",
    "PurgeReport",
    "Retention",
    "RetentionTarget",
    "RetentionTargetNotFoundError",
    "install_retention",
    "purge_targets",
]
