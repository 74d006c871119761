"""Defaults of the store that the command line shows in its help, without importing SQLAlchemy:
``hazardboard summary`` reads workbooks only, and its start-up is part of its time."""

from __future__ import annotations

import os

# Where the store is when no --store is given: this variable, else this folder.
STORE_ENV_VAR = "HAZARDBOARD_STORE"
DEFAULT_STORE_DIR = "data"
# Processes parsing workbooks in parallel (ingest, summary): parsing is CPU-bound.
INGEST_WORKERS = min(2, os.cpu_count() or 1)
# A parse of one uploaded file, in a child process (store/isolation.py): memory (MB) and time (s).
DEFAULT_PARSE_MEMORY_MB = 1024
DEFAULT_PARSE_TIMEOUT_S = 120.0
# Below this the child cannot even import the loaders.
MIN_PARSE_MEMORY_MB = 128
# What an audited action came to (store/audit.py).
OUTCOMES = ("ok", "refused", "failed")
# The annotation tags officers choose from unless the server is given others (store/annotations.py).
DEFAULT_TAGS = ("需关注", "已督办", "待核实", "已约谈", "已销号")
