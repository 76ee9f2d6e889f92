"""SQLite state: papers, candidates, decisions, runs, metadata, and the single-instance lock."""

from arxivwatch.store._file import Backup
from arxivwatch.store._file import backup as backup_state
from arxivwatch.store._file import describe as describe_backup
from arxivwatch.store._file import inspect as inspect_state
from arxivwatch.store._lock import InstanceLock
from arxivwatch.store._rows import RunRecord, StoredCandidate
from arxivwatch.store._schema import VERSION as SCHEMA_VERSION
from arxivwatch.store._stats import DigestStats
from arxivwatch.store._store import Store

__all__ = [
    "SCHEMA_VERSION",
    "Backup",
    "DigestStats",
    "InstanceLock",
    "RunRecord",
    "Store",
    "StoredCandidate",
    "backup_state",
    "describe_backup",
    "inspect_state",
]
