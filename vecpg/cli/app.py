"""The ``vecpg`` group: where it connects, and every error as one line on stderr with exit code 2."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any, NoReturn, TypeVar

import click
import psycopg

from .. import __version__, config
from ..errors import VecpgError
from ..store import Store, connect

F = TypeVar("F", bound=Callable[..., Any])
_URL_HELP = "Database URL (default: the embedded server)."
_TENANT_HELP = "Act for this tenant (row-level security)."


def fail(message: str) -> NoReturn:
    """Print one line on stderr and exit with code 2."""
    # One line whatever the source: driver messages often carry a second "HINT"-like line.
    click.echo(f"error: {' '.join(message.split())}", err=True)
    sys.exit(2)


class Group(click.Group):
    """Turns usage, vecpg and database errors into one readable line and exit code 2."""

    def main(self, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        kwargs["standalone_mode"] = False
        try:
            code = super().main(*args, **kwargs)
        except click.UsageError as exc:
            hint = f" (see: vecpg {exc.ctx.command_path.partition(' ')[2]} --help)".replace("  ", " ") if exc.ctx else ""
            fail(exc.format_message() + hint)
        except click.exceptions.Abort:
            fail("aborted")
        sys.exit(code if isinstance(code, int) else 0)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except VecpgError as exc:
            fail(str(exc))
        except psycopg.Error as exc:
            fail((exc.diag.message_primary if getattr(exc, "diag", None) else None) or str(exc).strip())


def _remember(ctx: click.Context, param: click.Parameter, value: str | None) -> None:
    # Given after the subcommand: the same setting as before it; the later one wins.
    if value:
        ctx.ensure_object(dict)[param.name] = value


def url_option(command: F) -> F:
    """``--url`` after the subcommand too (``vecpg search ... --url URL``)."""
    return click.option("--url", callback=_remember, expose_value=False, is_eager=True, help=_URL_HELP)(command)


def connection_options(command: F) -> F:
    """``--url`` and ``--tenant`` after the subcommand too (``vecpg ingest f.jsonl -c c --tenant acme``)."""
    command = click.option("--tenant", callback=_remember, expose_value=False, is_eager=True,
                           help=_TENANT_HELP)(command)
    return url_option(command)


def store_of(ctx: click.Context) -> Store:
    """The store of this invocation, opened on first use, acting for ``--tenant`` if given."""
    obj = ctx.ensure_object(dict)
    if "store" not in obj:
        obj["store"] = connect(obj.get("url"))
        ctx.call_on_close(obj["store"].close)
        if obj.get("tenant"):
            ctx.with_resource(obj["store"].tenant(obj["tenant"]))
    return obj["store"]  # type: ignore[no-any-return]


@click.group(cls=Group)
@click.version_option(__version__, "--version", prog_name="vecpg", message="%(prog)s %(version)s")
@click.option("--url", envvar=config.DATABASE_URL_ENV, help=_URL_HELP)
@click.option("--tenant", envvar="VECPG_TENANT", help=_TENANT_HELP)
@click.pass_context
def main(ctx: click.Context, url: str | None, tenant: str | None) -> None:
    """vecpg: vector search on PostgreSQL."""
    ctx.ensure_object(dict).update(url=url or None, tenant=tenant or None)
