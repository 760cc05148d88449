"""``vecpg db``: the embedded PostgreSQL server."""

from __future__ import annotations

import json
from dataclasses import asdict

import click

from ..db.embedded import embedded_application_url
from ..db.server import TUNABLE, EmbeddedServer
from ..db.standby import DEFAULT_PORT, create_standby, standby_at
from .app import fail


@click.group()
def db() -> None:
    """Manage the embedded PostgreSQL server."""


@db.command("start")
@click.option("--set", "settings", multiple=True, metavar="NAME=VALUE",
              help=f"Server setting to keep for every start ({', '.join(TUNABLE)}).")
def db_start(settings: tuple[str, ...]) -> None:
    """Start the embedded server (creating it on first use)."""
    server = EmbeddedServer()
    overrides = {}
    for item in settings:
        name, sep, value = item.partition("=")
        if not sep or not value:
            fail(f"--set takes NAME=VALUE, got {item!r}")
        overrides[name.strip()] = value.strip()
    if overrides:
        server.save_overrides(overrides)
    url = server.start()
    status = server.status()
    if status.pending_restart:
        click.echo(f"note: {', '.join(status.pending_restart)} change at the next restart (vecpg db stop; vecpg db start)")
    click.echo(url)


@db.command("stop")
def db_stop() -> None:
    """Stop the embedded server."""
    click.echo("stopped" if EmbeddedServer().stop() else "not running")


@db.command("status")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def db_status(as_json: bool) -> None:
    """Whether the embedded server runs, its URL and its vector-search settings."""
    status = EmbeddedServer().status()
    if as_json:
        click.echo(json.dumps({**asdict(status), "pgdata": str(status.pgdata)}))
        return
    click.echo(f"running:  {'yes' if status.running else 'no'}")
    click.echo(f"data:     {status.pgdata}")
    if status.url:
        click.echo(f"url:      {status.url}")
    for name, value in status.settings.items():
        pending = "  (changes at next restart)" if name in status.pending_restart else ""
        click.echo(f"{name + ':':34}{value}{pending}")


@db.command("url")
@click.option("--app", is_flag=True,
              help="The application role's URL instead (vecpg_app, bound by row-level security).")
def db_url(app: bool) -> None:
    """Print the embedded server's URL (starting it if needed).

    By default the administrator's (superuser postgres), for psql, migrations and role
    management: row-level security does not bind it, so tenants isolate nothing there.
    """
    click.echo(embedded_application_url() if app else EmbeddedServer().start())


@db.group("replica")
def db_replica() -> None:
    """Streaming-replication standbys for read replicas (docs/replicas.md)."""


@db_replica.command("create")
@click.argument("directory", type=click.Path(file_okay=False))
@click.option("--port", type=int, default=DEFAULT_PORT, show_default=True,
              help="The standby's port (its Unix socket is in DIRECTORY).")
@click.option("--from", "source_url", metavar="URL",
              help="Copy this server (a superuser's or a REPLICATION role's URL) instead of the embedded one.")
def db_replica_create(directory: str, port: int, source_url: str | None) -> None:
    """Make a hot standby of the embedded server in DIRECTORY with pg_basebackup -R, start it and
    print its URL (for connect(read_urls=[...]) or VECPG_READ_URLS)."""
    standby = create_standby(directory, port, source_url)
    click.echo(standby.url())
    for action in ("stop", "start", "promote"):
        click.echo(f"{action + ':':9}vecpg db replica {action} {standby.pgdata}  ({standby.commands()[action]})", err=True)


@db_replica.command("stop")
@click.argument("directory", type=click.Path(file_okay=False))
def db_replica_stop(directory: str) -> None:
    """Stop the standby in DIRECTORY (searches go back to the primary, or another replica)."""
    standby_at(directory).stop()
    click.echo(f"stopped the standby in {directory}")


@db_replica.command("start")
@click.argument("directory", type=click.Path(file_okay=False))
def db_replica_start(directory: str) -> None:
    """Start the standby in DIRECTORY again; it catches up from the primary and prints its URL."""
    standby = standby_at(directory)
    standby.start()
    click.echo(standby.url())


@db_replica.command("promote")
@click.argument("directory", type=click.Path(file_okay=False))
def db_replica_promote(directory: str) -> None:
    """End the standby's recovery: it becomes a primary of its own and no store uses it as a
    replica any more (docs/replicas.md says what to change after)."""
    standby = standby_at(directory)
    standby.promote()
    click.echo(f"promoted: {standby.url()} is a primary now")
