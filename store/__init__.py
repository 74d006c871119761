"""The embedded store: received files, byte for byte, and what the loaders read from them;
officers' annotations in the same database.

No Panel here: the CLI, the server and notebooks share it. See ``store.db.Store`` and
``store.annotations``.
"""

# No ``from __future__ import annotations`` here: it would bind the name ``annotations`` in this
# package, hiding the ``store.annotations`` submodule from ``from store import annotations``.
import importlib

# Where each public name lives: imported on first use (PEP 562), so ``import store.defaults`` or a
# module that needs one name does not import SQLAlchemy and every table (the CLI's start-up).
_LAZY = {
    "DEFAULT_TAGS": "annotations",
    "AnnotationConflict": "annotations",
    "AnnotationNotFound": "annotations",
    "Annotations": "annotations",
    "Subject": "annotations",
    "add_annotation": "annotations",
    "edit_annotation": "annotations",
    "figure_subject": "annotations",
    "get_annotation": "annotations",
    "hazard_subject": "annotations",
    "history": "annotations",
    "list_annotations": "annotations",
    "mark_orphans": "annotations",
    "reopen_annotation": "annotations",
    "resolve_annotation": "annotations",
    "unit_subject": "annotations",
    "view_subject": "annotations",
    "result_from_dict": "codec",
    "result_to_dict": "codec",
    "DEFAULT_STORE_DIR": "db",
    "OUTCOME_LABELS": "db",
    "SCHEMA_VERSION": "db",
    "STORE_ENV_VAR": "db",
    "STORE_FILE_NAME": "db",
    "IngestOutcome": "db",
    "IngestReport": "db",
    "Replacement": "db",
    "Store": "db",
    "StoreError": "db",
    "resolve_store_url": "db",
}


def __getattr__(name: str):
    if name in _LAZY:
        value = getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


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
