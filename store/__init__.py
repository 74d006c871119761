"""The embedded store: received files, byte for byte, and what the loaders read from them.

No Panel here: the CLI, the server and notebooks share it. See ``store.db.Store``.
"""

from __future__ import annotations

from .codec import result_from_dict, result_to_dict
from .db import (
    DEFAULT_STORE_DIR,
    OUTCOME_LABELS,
    SCHEMA_VERSION,
    STORE_ENV_VAR,
    STORE_FILE_NAME,
    IngestOutcome,
    IngestReport,
    Replacement,
    Store,
    StoreError,
    resolve_store_url,
)

__all__ = [
    "DEFAULT_STORE_DIR",
    "OUTCOME_LABELS",
    "SCHEMA_VERSION",
    "STORE_ENV_VAR",
    "STORE_FILE_NAME",
    "IngestOutcome",
    "IngestReport",
    "Replacement",
    "Store",
    "StoreError",
    "resolve_store_url",
    "result_from_dict",
    "result_to_dict",
]
