"""``vecpg doctor``: what is wrong and how to fix it; ``vecpg maintain``: run the safe fixes."""

from __future__ import annotations

import json
import sys

import click

from ..doctor import maintain
from .app import connection_options, store_of


@click.command("doctor")
@click.option("--collection", "-c", "name", help="Only this collection (default: all, and the database).")
@click.option("--json", "as_json", is_flag=True, help="Print the findings as one JSON array.")
@click.option("--no-recall", is_flag=True, help="Skip measuring each index's recall (one exact scan a sampled query).")
@connection_options
@click.pass_context
def doctor_cmd(ctx: click.Context, name: str | None, as_json: bool, no_recall: bool) -> None:
    """Check indexes, statistics, bloat, vectors, the queue, the mirror and versions; print each
    finding with the command that fixes it. Exit code 1 when any is a problem (warnings: 0)."""
    findings = store_of(ctx).doctor(name, recall=not no_recall)
    if as_json:
        click.echo(json.dumps([f.as_dict() for f in findings], indent=2))
    elif not findings:
        click.echo("healthy: nothing found")
    else:
        for finding in findings:
            click.echo(finding.line())
    if any(f.problem for f in findings):
        sys.exit(1)


@click.command("maintain")
@click.option("--collection", "-c", "name", help="Only this collection (default: all).")
@click.option("--dry-run", is_flag=True, help="Print what would run, and run nothing.")
@click.option("--no-recall", is_flag=True, help="Skip measuring recall, and so retuning.")
@connection_options
@click.pass_context
def maintain_cmd(ctx: click.Context, name: str | None, dry_run: bool, no_recall: bool) -> None:
    """Run what `vecpg doctor` advises and is safe unattended: VACUUM ANALYZE, REINDEX INDEX
    CONCURRENTLY of invalid or bloated indexes, retuning, retrying failed embeddings."""
    actions, left = maintain(store_of(ctx), name, dry_run=dry_run, progress=not dry_run, recall=not no_recall)
    verb = "would run" if dry_run else "ran"
    for action in actions:
        click.echo(f"{verb}: {action.command}" + (f" [{action.collection}]" if action.collection else ""))
    if not actions:
        click.echo("nothing to run")
    for finding in left:
        click.echo(f"left to you: {finding.check}" + (f" [{finding.collection}]" if finding.collection else "")
                   + f": {finding.fix}")
