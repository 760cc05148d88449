"""``vecpg keys``: API keys of ``vecpg serve``, each bound to a tenant, a scope and optionally a collection."""

from __future__ import annotations

import json

import click

from ..service import keys as api_keys
from .app import fail, store_of, url_option


@click.group()
def keys() -> None:
    """API keys of vecpg serve (only a hash of each is stored)."""


@keys.command("create")
@click.option("--tenant", "key_tenant", help="The tenant the key acts for (required unless --scope admin).")
@click.option("--scope", type=click.Choice(api_keys.SCOPES), default="read", show_default=True,
              help="read: search and get; write: also upsert and delete; admin: also create and drop collections.")
@click.option("--collection", "-c", help="The one collection the key may use (default: every one).")
@click.option("--expires", help="A duration (30d, 12h, 90m) or an ISO date or time (UTC unless given).")
@click.option("--description", help="What the key is for, shown by vecpg keys list.")
@url_option
@click.pass_context
def create(ctx: click.Context, key_tenant: str | None, scope: str, collection: str | None, expires: str | None,
           description: str | None) -> None:
    """Create a key and print it once, alone on stdout (what it is goes to stderr)."""
    text, statement = api_keys.new_key(key_tenant, scope, collection, api_keys.expiry(expires), description)
    stored = store_of(ctx).run(statement)
    click.echo(f"key {stored.id}: {scope}, tenant {stored.tenant or '(none)'}, "
               f"collection {stored.collection or '(every)'}, expires {stored.expires_at or 'never'}", err=True)
    click.echo(text)


@keys.command("list")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per key.")
@url_option
@click.pass_context
def list_cmd(ctx: click.Context, as_json: bool) -> None:
    """Every key: id, tenant, scope, collection, created, expires, revoked (never the key itself)."""
    found = store_of(ctx).run(api_keys.list_keys())
    for key in found:
        if as_json:
            click.echo(json.dumps(key.to_dict()))
            continue
        state = "revoked" if key.revoked_at else "active"
        click.echo(f"{key.id}  {key.scope:<5}  tenant={key.tenant or '-'}  collection={key.collection or '*'}  "
                   f"expires={key.expires_at.isoformat() if key.expires_at else 'never'}  {state}"
                   + (f"  {key.description}" if key.description else ""))


@keys.command("revoke")
@click.argument("key_id")
@url_option
@click.pass_context
def revoke(ctx: click.Context, key_id: str) -> None:
    """Revoke a key by its id (or its whole text): requests with it fail from now on."""
    if not store_of(ctx).run(api_keys.revoke(key_id)):
        fail(f"no active key {key_id!r}")
    click.echo(f"revoked {key_id}")
