"""Who may use the dashboard: the users file, roles and password checks (no Panel, no Bokeh).

The sign-in pages and the role enforcement of the server build on ``UsersFile``; the
``hazardboard users`` command manages the file.
"""

from __future__ import annotations

from .users import (
    MIN_PASSWORD_CHARS,
    ROLE_LABELS,
    ROLES,
    USERS_ENV_VAR,
    USERS_FILE_NAME,
    User,
    UsersError,
    UsersFile,
    default_users_path,
)

__all__ = [
    "MIN_PASSWORD_CHARS",
    "ROLES",
    "ROLE_LABELS",
    "USERS_ENV_VAR",
    "USERS_FILE_NAME",
    "User",
    "UsersError",
    "UsersFile",
    "default_users_path",
]
