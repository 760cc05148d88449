"""``vecpg serve``: the search service over HTTP, with API keys bound to tenants.

``vecpg.service.app(store)`` is the ASGI application (FastAPI), to run with any ASGI server or
mount in an application of your own; it needs the ``vecpg[serve]`` extra. Keys (``keys``) and
limits (``Limits``) need no extra: ``vecpg keys`` manages keys without the server installed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..errors import MissingDependency
from .limits import Limits

if TYPE_CHECKING:
    from fastapi import FastAPI


def app(store: Any, **settings: Any) -> FastAPI:
    """The ASGI application over ``store``; ``settings`` as ``vecpg.service.asgi.app`` takes them
    (``keys``, ``limits``, ``llm``, ``rerankers``, ``console``)."""
    try:
        from .asgi import app as make
    except ImportError as exc:
        raise MissingDependency(f"vecpg.service needs FastAPI and uvicorn: pip install 'vecpg[serve]' ({exc})") from exc
    return make(store, **settings)


__all__ = ["Limits", "app"]
