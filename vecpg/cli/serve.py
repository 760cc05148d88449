"""``vecpg serve``: the HTTP service (vecpg/service/) on uvicorn."""

from __future__ import annotations

import ipaddress
import json
import os

import click

from ..errors import MissingDependency
from ..service import Limits
from ..store import connect
from .app import fail, url_option


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True)
@click.option("--workers", type=click.IntRange(1, 64), default=1, show_default=True,
              help="Processes (each with its own connection pool).")
@click.option("--no-keys", is_flag=True, help="Serve without API keys (loopback only), as no tenant.")
@click.option("--llm", "llm_spec", metavar="offline|URL|PATH", help="The model of /ask (default: VECPG_LLM or offline).")
@click.option("--statement-timeout", type=click.FloatRange(0.001, 3600), default=10.0, show_default=True,
              help="Seconds each statement of a request may run.")
@click.option("--max-k", type=click.IntRange(min=1), default=200, show_default=True, help="Results per query.")
@click.option("--max-batch", type=click.IntRange(min=1), default=100, show_default=True, help="Queries per batch.")
@click.option("--max-body", type=click.IntRange(min=1), default=8 * 1024 * 1024, show_default=True,
              help="Bytes per request body.")
@click.option("--pool-size", type=click.IntRange(1, 200), default=8, show_default=True,
              help="Database connections per process.")
@url_option
@click.pass_context
def serve(ctx: click.Context, host: str, port: int, workers: int, no_keys: bool, llm_spec: str | None,
          statement_timeout: float, max_k: int, max_batch: int, max_body: int, pool_size: int) -> None:
    """Serve collections over HTTP: search, documents, ask, a web console at /."""
    try:
        import uvicorn
    except ImportError:
        raise MissingDependency("vecpg serve needs the server: pip install 'vecpg[serve]'") from None
    if no_keys and not is_loopback(host):
        fail(f"--no-keys serves everyone who can reach {host}: it is allowed on loopback only (127.0.0.1, ::1)")
    url = ctx.ensure_object(dict).get("url")
    limits = Limits(max_body_bytes=max_body, max_k=max_k, max_batch=max_batch, statement_timeout=statement_timeout)
    settings = {"url": url, "pool_size": pool_size, "keys": not no_keys, "llm": llm_spec,
                "limits": {name: getattr(limits, name) for name in limits.__dataclass_fields__}}
    with connect(url, pool_size=pool_size) as store:  # checked (and migrated) once, before any worker starts
        if not no_keys and store.bypasses_rls:
            fail(f'role "{store.role}" bypasses row-level security, so keys could not keep tenants apart: '
                 "serve with an ordinary role that is a member of vecpg_admin")
    if no_keys:
        click.echo(f"serving WITHOUT API keys on {host}:{port}: every local user can read and write every "
                   "collection (as no tenant)", err=True)
    click.echo(f"vecpg serve: http://{host}:{port}/ (console), /docs (API), /openapi.json", err=True)
    # Each process builds the app from the settings (uvicorn's workers import it by name).
    os.environ[SETTINGS_ENV] = json.dumps(settings)
    uvicorn.run("vecpg.cli.serve:from_environment", factory=True, host=host, port=port, workers=workers,
                log_level="warning", access_log=False)


SETTINGS_ENV = "VECPG_SERVE_SETTINGS"


def from_environment() -> object:
    """The application of one ``vecpg serve`` process, from the settings its command left."""
    from ..service import app

    settings = json.loads(os.environ[SETTINGS_ENV])
    limits = Limits(**settings["limits"])
    store = connect(settings["url"], pool_size=settings["pool_size"], statement_timeout=limits.statement_timeout)
    metrics = None
    try:
        from ..metrics import enable

        metrics = enable()
        metrics.watch(store)
    except ImportError:  # MissingDependency: serve without /metrics
        pass
    return app(store, keys=settings["keys"], limits=limits, llm=settings["llm"], metrics=metrics)
