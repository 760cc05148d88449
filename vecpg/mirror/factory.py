"""The mirror backend the environment asks for: the one place that knows both implementations."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .. import config

if TYPE_CHECKING:
    from .edge import EdgeBackend
    from .server import ServerBackend


def backend_from_env() -> EdgeBackend | ServerBackend:
    """A ServerBackend when ``VECPG_QDRANT_URL`` is set (with ``VECPG_QDRANT_API_KEY``), else an
    EdgeBackend under ``VECPG_QDRANT_PATH`` (default ``$VECPG_HOME/qdrant``)."""
    url = config.qdrant_url()
    if url is not None:
        from .server import ServerBackend  # qdrant-client is optional: import only when asked

        return ServerBackend(url, config.qdrant_api_key())
    from .edge import EdgeBackend

    return EdgeBackend(config.qdrant_path())
