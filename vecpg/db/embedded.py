"""The embedded default for applications: the server started, its database at vecpg's newest
revision, and the application role (which row-level security binds) ready.

Here rather than in server.py, which knows PostgreSQL but not vecpg's migrations.
"""

from __future__ import annotations

from .. import config
from . import migrate
from .server import EmbeddedServer


def embedded_application_url() -> str:
    """The embedded server's application role URL: the server started, the database migrated
    and the role created if needed (as ``vecpg.connect()`` does)."""
    server = EmbeddedServer()
    admin_url = server.start()
    if migrate.current(admin_url) != migrate.head():
        migrate.upgrade(admin_url)
    return server.ensure_app_role(admin_url)


def application_url(url: str | None = None) -> str:
    """``url``, else ``VECPG_DATABASE_URL``, else the embedded server's application role."""
    return url or config.database_url() or embedded_application_url()
