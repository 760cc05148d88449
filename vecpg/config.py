"""Where vecpg finds its database and keeps its files, read from the environment."""

from __future__ import annotations

import os
from pathlib import Path

DATABASE_URL_ENV = "VECPG_DATABASE_URL"
HOME_ENV = "VECPG_HOME"


def database_url() -> str | None:
    """The database URL the user configured, or None to use the embedded server."""
    url = os.environ.get(DATABASE_URL_ENV, "").strip()
    return url or None


def home() -> Path:
    """vecpg's per-user directory (``VECPG_HOME`` or ``~/.local/share/vecpg``)."""
    configured = os.environ.get(HOME_ENV, "").strip()
    if configured:
        return Path(configured).expanduser().resolve()
    base = os.environ.get("XDG_DATA_HOME", "").strip() or str(Path.home() / ".local" / "share")
    return Path(base) / "vecpg"
