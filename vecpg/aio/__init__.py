"""vecpg for asyncio: ``store = await vecpg.connect_async()`` (also ``vecpg.aio.connect_async``).

The same operations as the sync API, run by a second runner on psycopg's async connections.
"""

from .collection import AsyncCollection
from .store import AsyncStore, connect_async

__all__ = ["AsyncCollection", "AsyncStore", "connect_async"]
