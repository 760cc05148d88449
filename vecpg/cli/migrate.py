"""``vecpg migrate``: vecpg's schema migrations."""

from __future__ import annotations

import click

from ..db import migrate
from ..db.connection import resolve_url
from .app import url_option


@click.command("migrate")
@click.option("--downgrade", "down_to", metavar="REV", help="Migrate down to REV instead (base removes vecpg).")
@url_option
@click.pass_context
def migrate_cmd(ctx: click.Context, down_to: str | None) -> None:
    """Apply vecpg's schema migrations (to the newest revision)."""
    url = resolve_url(ctx.obj["url"])
    if down_to:
        migrate.downgrade(url, down_to)
    else:
        migrate.upgrade(url)
    click.echo(f"vecpg schema at revision {migrate.current(url) or 'base'}")
