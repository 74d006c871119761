"""The embedded store: received files, byte for byte, and what the loaders read from them;
officers' annotations in the same database.

No Panel here: the CLI, the server and notebooks share it. See ``store.db.Store`` and
``store.annotations``.
"""

from __future__ import annotations

from .annotations import (
    DEFAULT_TAGS,
    AnnotationConflict,
    AnnotationNotFound,
    Annotations,
    Subject,
    add_annotation,
    edit_annotation,
    figure_subject,
    get_annotation,
    hazard_subject,
    history,
    list_annotations,
    mark_orphans,
    reopen_annotation,
    resolve_annotation,
    unit_subject,
    view_subject,
)
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
    "DEFAULT_TAGS",
    "OUTCOME_LABELS",
    "SCHEMA_VERSION",
    "STORE_ENV_VAR",
    "STORE_FILE_NAME",
    "AnnotationConflict",
    "AnnotationNotFound",
    "Annotations",
    "IngestOutcome",
    "IngestReport",
    "Replacement",
    "Store",
    "StoreError",
    "Subject",
    "add_annotation",
    "edit_annotation",
    "figure_subject",
    "get_annotation",
    "hazard_subject",
    "history",
    "list_annotations",
    "mark_orphans",
    "reopen_annotation",
    "resolve_annotation",
    "resolve_store_url",
    "result_from_dict",
    "result_to_dict",
    "unit_subject",
    "view_subject",
]
