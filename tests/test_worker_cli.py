"""`vecpg worker` as a user runs it: embed what psql queued, look at the status, retry failures."""

from __future__ import annotations

import json

import psycopg
import pytest
from click.testing import CliRunner

from vecpg.cli import main


@pytest.fixture
def run(db_url: str):  # type: ignore[no-untyped-def]
    def invoke(*args: str):  # type: ignore[no-untyped-def]
        return CliRunner().invoke(main, ["--url", db_url, *args])
    return invoke


def test_embed_what_plain_sql_queued_and_report_it(run, conn: psycopg.Connection) -> None:  # type: ignore[no-untyped-def]
    conn.execute("SELECT vecpg.create_collection('docs', 384, model => 'sentence-transformers/all-MiniLM-L6-v2')")
    conn.execute("INSERT INTO vecpg_data.docs (id, content) VALUES ('moon', 'The moon raises the tides.'), "
                 "('bread', 'Sourdough bread needs steam.')")
    before = json.loads(run("worker", "status", "--json").output)
    assert [(c["collection"], c["queued"], c["coverage"]) for c in before["collections"]] == [("docs", 2, 0.0)]
    done = run("worker", "--once", "--quiet", "-c", "docs")
    assert done.exit_code == 0 and "embedded 2 documents" in done.output
    text = run("worker", "status").output
    assert "docs: 2/2 embedded (100.0%), 0 queued" in text
    found = run("search", "-c", "docs", "ocean tides", "-k", "1")
    assert found.exit_code == 0 and "moon" in found.output


def test_retry_and_backfill(run, conn: psycopg.Connection) -> None:  # type: ignore[no-untyped-def]
    conn.execute("SELECT vecpg.create_collection('docs', 384, model => 'sentence-transformers/all-MiniLM-L6-v2')")
    conn.execute("SELECT vecpg.add_document('docs', 'a', NULL, 'a text')")
    conn.execute("UPDATE vecpg.embedding_queue SET failed_at = now(), attempts = 5, last_error = 'RuntimeError: boom'")
    status = json.loads(run("worker", "status", "--json").output)
    assert status["failures"][0]["id"] == "a" and status["failures"][0]["error"] == "RuntimeError: boom"
    assert "failed docs/a after 5 attempts: RuntimeError: boom" in run("worker", "status").output
    assert "requeued 1 documents" in run("worker", "retry", "-c", "docs").output
    conn.execute("DELETE FROM vecpg.embedding_queue")
    assert "queued 1 documents" in run("worker", "backfill", "-c", "docs").output


@pytest.mark.parametrize("args, message", [
    (("worker", "--once", "-c", "nope"), 'collection "nope" does not exist'),
    (("worker", "retry", "-c", "nope"), 'collection "nope" does not exist'),
    (("worker", "--batch", "0"), "--batch"),
    (("worker", "backfill", "-c", "nope"), "nope"),
])
def test_bad_input_is_one_line_and_exit_2(run, args: tuple[str, ...], message: str) -> None:  # type: ignore[no-untyped-def]
    result = run(*args)
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and message in lines[0] and "Traceback" not in result.output
