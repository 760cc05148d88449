"""`vecpg mirror` as a user runs it: enable, sync, status, verify, rebuild, disable."""

from __future__ import annotations

import json
from pathlib import Path

import psycopg
import pytest
from click.testing import CliRunner

from vecpg.cli import main


@pytest.fixture
def run(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("VECPG_QDRANT_PATH", str(tmp_path / "qdrant"))
    monkeypatch.delenv("VECPG_QDRANT_URL", raising=False)
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute("SELECT vecpg.create_collection('docs', 3)")
        conn.execute("INSERT INTO vecpg_data.docs (id, content, embedding, metadata) VALUES "
                     "('a', 'x', '[1,0,0]', '{\"k\": 1}'), ('b', 'y', '[0,1,0]', '{}')")

    def invoke(*args: str):
        return CliRunner().invoke(main, ["--url", db_url, *args], catch_exceptions=False)

    return invoke


def test_mirror_a_collection_from_the_command_line(run, db_url: str) -> None:
    assert run("mirror", "enable", "docs", "--index", "k", "--int8").exit_code == 0
    status = json.loads(run("mirror", "status", "--json").output)
    assert [(s["collection"], s["backlog"], s["full_copy_pending"]) for s in status] == [("docs", 1, True)]

    synced = run("mirror", "sync")
    assert synced.exit_code == 0 and "synced 1 events" in synced.output
    verified = run("mirror", "verify")
    assert verified.exit_code == 0 and "postgres 2 points" in verified.output and "same" in verified.output

    with psycopg.connect(db_url, autocommit=True) as conn:  # a change that never reaches the outbox
        conn.execute("DELETE FROM vecpg.mirror_outbox")
        conn.execute("SET session_replication_role = replica")  # triggers off for this session
        conn.execute("DELETE FROM vecpg_data.docs WHERE id = 'b'")
    differs = run("mirror", "verify")
    assert differs.exit_code == 1 and "only in qdrant (1): b" in differs.output

    assert run("mirror", "rebuild", "docs").exit_code == 0
    assert run("mirror", "verify").exit_code == 0
    assert "stopped mirroring" in run("mirror", "disable", "docs").output
    assert "no collection is mirrored" in run("mirror", "status").output


def test_mirror_errors_are_one_line(run) -> None:
    result = run("mirror", "enable", "nope")
    assert result.exit_code == 2 and 'collection "nope" does not exist' in result.output
    bad = run("mirror", "enable", "docs", "--m", "1")
    assert bad.exit_code == 2 and bad.output.count("\n") == 1 and "m must be an integer" in bad.output
