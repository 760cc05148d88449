"""Where vecpg finds its database and keeps its files, read from the environment."""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from pathlib import Path

import psycopg
from psycopg.conninfo import conninfo_to_dict

from .errors import InvalidArgument

DATABASE_URL_ENV = "VECPG_DATABASE_URL"
HOME_ENV = "VECPG_HOME"
QDRANT_PATH_ENV = "VECPG_QDRANT_PATH"
QDRANT_URL_ENV = "VECPG_QDRANT_URL"
QDRANT_API_KEY_ENV = "VECPG_QDRANT_API_KEY"


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


def qdrant_path() -> Path:
    """Where the in-process Qdrant mirror keeps its shards (``VECPG_QDRANT_PATH`` or ``<home>/qdrant``)."""
    configured = os.environ.get(QDRANT_PATH_ENV, "").strip()
    return Path(configured).expanduser().resolve() if configured else home() / "qdrant"


def qdrant_url() -> str | None:
    """The Qdrant server URL the user configured, or None to use the in-process shards."""
    return os.environ.get(QDRANT_URL_ENV, "").strip() or None


def qdrant_api_key() -> str | None:
    """The API key for the Qdrant server, if any."""
    return os.environ.get(QDRANT_API_KEY_ENV, "").strip() or None


MIRROR_MAX_LAG_ENV = "VECPG_MIRROR_MAX_LAG"
MIRROR_FALLBACK_ENV = "VECPG_MIRROR_FALLBACK"


def mirror_max_lag() -> float:
    """Seconds the oldest unsynced change may wait before a Qdrant search falls back (default 5)."""
    return float(os.environ.get(MIRROR_MAX_LAG_ENV, "").strip() or 5.0)


def mirror_fallback() -> str:
    """What a Qdrant search does when the mirror lags or fails: ``postgres`` (default) or ``error``."""
    return os.environ.get(MIRROR_FALLBACK_ENV, "").strip() or "postgres"


MODELS_DIR_ENV = "VECPG_MODELS_DIR"
EMBEDDER_ENV = "VECPG_EMBEDDER"
QUERY_CACHE_SIZE_ENV = "VECPG_QUERY_CACHE_SIZE"
QUERY_CACHE_SIZE_DEFAULT = 1024
EMBED_THREADS_ENV = "VECPG_EMBED_THREADS"


def models_dir() -> Path:
    """Where vecpg keeps what it derives from models, such as ONNX exports (``VECPG_MODELS_DIR``
    or ``<home>/models``)."""
    configured = os.environ.get(MODELS_DIR_ENV, "").strip()
    return Path(configured).expanduser().resolve() if configured else home() / "models"


def embedder_backend() -> str | None:
    """The store's default embedder backend (``VECPG_EMBEDDER``), or None for vecpg's default;
    the store checks the name."""
    return os.environ.get(EMBEDDER_ENV, "").strip() or None


def query_cache_size() -> int:
    """How many query embeddings a store keeps (``VECPG_QUERY_CACHE_SIZE``, default 1024; 0: none)."""
    configured = os.environ.get(QUERY_CACHE_SIZE_ENV, "").strip()
    if not configured:
        return QUERY_CACHE_SIZE_DEFAULT
    try:
        size = int(configured)
    except ValueError:
        size = -1
    if size < 0:
        raise InvalidArgument(f"{QUERY_CACHE_SIZE_ENV} must be a whole number >= 0, got {configured!r}")
    return size


def embed_threads() -> int | None:
    """CPU threads a model runs on in this process (``VECPG_EMBED_THREADS``), or None for the
    library's default (all cores). Several embedding processes on one machine want a share each."""
    configured = os.environ.get(EMBED_THREADS_ENV, "").strip()
    if not configured:
        return None
    if not configured.isdigit() or int(configured) < 1:
        raise InvalidArgument(f"{EMBED_THREADS_ENV} must be a whole number >= 1, got {configured!r}")
    return int(configured)


READ_URLS_ENV = "VECPG_READ_URLS"
REPLICA_MAX_LAG_ENV = "VECPG_REPLICA_MAX_LAG"
REPLICA_MAX_LAG_DEFAULT = 5.0
REPLICA_MAX_LAG_MAX = 86_400.0
# Between URLs, a comma followed by a scheme: a URL of several hosts (``postgresql://a,b/db``) keeps its own.
_URL_SEPARATOR = re.compile(r",\s*(?=postgres(?:ql)?://)")


def read_urls(given: str | Sequence[str] | None = None) -> list[str]:
    """The read replicas' URLs: ``given`` (a list, or one string as the variable takes them),
    else ``VECPG_READ_URLS`` (comma-separated URLs), else none."""
    if given is None:
        given = os.environ.get(READ_URLS_ENV, "")
    where = READ_URLS_ENV if isinstance(given, str) else "read_urls"
    urls = [u.strip() for u in _URL_SEPARATOR.split(given)] if isinstance(given, str) else list(given)
    urls = [u for u in urls if not (isinstance(u, str) and not u)]
    for url in urls:
        if not isinstance(url, str):
            raise InvalidArgument(f"{where} must be database URLs, got {url!r}")
        try:
            conninfo_to_dict(url)
        except psycopg.ProgrammingError as exc:
            raise InvalidArgument(f"{where}: {url!r} is not a PostgreSQL URL or conninfo string ({exc})") from None
    if len(set(urls)) != len(urls):
        raise InvalidArgument(f"{where} names a replica twice: {urls}")
    return urls


def replica_max_lag(given: float | None = None) -> float:
    """Seconds a replica may lag behind the primary and still take searches: ``given``, else
    ``VECPG_REPLICA_MAX_LAG``, else 5; between 0 (only caught-up replicas) and a day."""
    where = "replica_max_lag"
    if given is None:
        text = os.environ.get(REPLICA_MAX_LAG_ENV, "").strip()
        if not text:
            return REPLICA_MAX_LAG_DEFAULT
        where = REPLICA_MAX_LAG_ENV
        try:
            given = float(text)
        except ValueError:
            raise InvalidArgument(f"{where} must be a number of seconds, got {text!r}") from None
    if isinstance(given, bool) or not isinstance(given, int | float) or not 0 <= given <= REPLICA_MAX_LAG_MAX:
        raise InvalidArgument(f"{where} must be a number of seconds in [0, {REPLICA_MAX_LAG_MAX:g}], got {given!r}")
    return float(given)
