"""``vecpg metrics``: the database's gauges (collections, points, the embedding queue, the
mirror's lag) over HTTP for Prometheus, beside a deployment's workers and syncs."""

from __future__ import annotations

import time

import click

from ..metrics import enable
from .app import store_of, url_option


@click.command("metrics")
@click.option("--port", type=click.IntRange(0, 65535), default=9464, show_default=True)
@click.option("--host", default="127.0.0.1", show_default=True)
@url_option
@click.pass_context
def metrics_cmd(ctx: click.Context, port: int, host: str) -> None:
    """Serve the database's metrics at http://HOST:PORT/metrics until interrupted."""
    import prometheus_client

    metrics = enable()
    metrics.watch(store_of(ctx))
    server, thread = prometheus_client.start_http_server(port, addr=host, registry=metrics.registry)
    click.echo(f"vecpg metrics: http://{host}:{server.server_port}/metrics", err=True)
    try:
        while thread.is_alive():
            time.sleep(1)
    except KeyboardInterrupt:
        server.shutdown()
