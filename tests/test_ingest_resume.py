"""Ingests commit in chunks with a checkpoint: killed, they resume without writing a record
twice; a finished file is not ingested again; a changed file starts over; tenants keep theirs."""

from __future__ import annotations

import gzip
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest
from click.testing import CliRunner, Result

import vecpg
from vecpg.cli import main
from vecpg.ingest import IngestOptions, ingest_file, open_reader, plan_ingest, run_ingest


def invoke(url: str, *args: str) -> Result:
    return CliRunner().invoke(main, ["--url", url, *args], catch_exceptions=False)


@pytest.fixture
def run(db_url: str):
    return lambda *args: invoke(db_url, *args)


def vectors_file(path: Path, count: int, ids: bool = False) -> Path:
    """JSONL documents with 3-d vectors and unique contents; without ids unless asked (each
    write of such a record makes a new random id: a record written twice is a duplicate)."""
    with path.open("w") as fh:
        for i in range(count):
            doc = {"content": f"document {i}", "embedding": [1.0, i % 7, i % 11], "metadata": {"n": i}}
            if ids:
                doc["id"] = f"d{i}"
            fh.write(json.dumps(doc) + "\n")
    return path


def checkpoint(conn: psycopg.Connection, tenant: str = "") -> tuple | None:
    return conn.execute("SELECT records, finished_at IS NOT NULL FROM vecpg.ingest_checkpoint "
                        "WHERE tenant_key = %s", (tenant,)).fetchone()


def rows(conn: psycopg.Connection, table: str = "docs") -> tuple[int, int, int]:
    """Rows, distinct ids, distinct contents."""
    return conn.execute(f"SELECT count(*), count(DISTINCT id), count(DISTINCT content) FROM vecpg_data.{table}").fetchone()


def test_sigkill_mid_file_then_resume_writes_every_record_once(
    conn: psycopg.Connection, db_url: str, tmp_path: Path
) -> None:
    total = 60_000
    path = vectors_file(tmp_path / "big.jsonl", total)
    conn.execute("SELECT vecpg.create_collection('docs', 3)")
    command = [sys.executable, "-m", "vecpg.cli", "--url", db_url, "ingest", str(path), "-c", "docs",
               "--quiet", "--commit-every", "1000"]
    process = subprocess.Popen(command, env=os.environ.copy(), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 120
        while (checkpoint(conn) or (0,))[0] < 3000:  # a few chunks in: then kill it mid-chunk
            assert process.poll() is None, process.communicate()
            assert time.monotonic() < deadline, "the ingest never committed 3000 records"
            time.sleep(0.005)
        process.send_signal(signal.SIGKILL)
        process.wait()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == -signal.SIGKILL
    committed, finished = checkpoint(conn)
    assert not finished and 3000 <= committed < total
    # The checkpoint was committed with its rows: it counts exactly what is in the table.
    assert rows(conn) == (committed, committed, committed)

    resumed = invoke(db_url, "ingest", str(path), "-c", "docs", "--quiet", "--commit-every", "1000")
    assert resumed.exit_code == 0, resumed.output
    assert f"resuming after {committed} records" in resumed.output
    assert f"wrote {total - committed} documents" in resumed.output
    assert rows(conn) == (total, total, total)  # no record twice, none missing
    assert checkpoint(conn) == (total, True)


def test_a_finished_file_is_not_ingested_again_unless_restarted(run, conn, tmp_path: Path) -> None:
    path = vectors_file(tmp_path / "docs.jsonl", 25)
    run("collection", "create", "docs", "--dimension", "3")
    first = run("ingest", str(path), "-c", "docs", "--quiet", "--commit-every", "5")  # ends on a boundary
    assert first.exit_code == 0 and "wrote 25 documents" in first.output
    assert checkpoint(conn) == (25, True)
    again = run("ingest", str(path), "-c", "docs", "--quiet")
    assert again.exit_code == 0 and "is already ingested into docs (25 records): nothing to do" in again.output
    assert rows(conn)[0] == 25
    # The same file under another path is another source.
    copy = tmp_path / "copy.jsonl"
    copy.write_bytes(path.read_bytes())
    assert "wrote 25 documents" in run("ingest", str(copy), "-c", "docs", "--quiet").output
    restarted = run("ingest", str(path), "-c", "docs", "--quiet", "--restart")
    assert "restarting" in restarted.output and "wrote 25 documents" in restarted.output
    assert rows(conn)[0] == 75  # records without ids: each ingest of them adds them again


def test_a_changed_file_starts_over(run, conn, tmp_path: Path) -> None:
    path = vectors_file(tmp_path / "docs.jsonl", 10, ids=True)
    run("collection", "create", "docs", "--dimension", "3")
    assert "wrote 10 documents" in run("ingest", str(path), "-c", "docs", "--quiet").output
    vectors_file(path, 12, ids=True)  # two more records: another size, another fingerprint
    changed = run("ingest", str(path), "-c", "docs", "--quiet")
    assert "changed since an earlier run committed 10 of its records: starting over" in changed.output
    assert "wrote 12 documents" in changed.output
    assert rows(conn) == (12, 12, 12) and checkpoint(conn) == (12, True)


def test_an_error_mid_file_keeps_the_chunks_before_it_and_says_so(run, conn, tmp_path: Path) -> None:
    path = vectors_file(tmp_path / "docs.jsonl", 25, ids=True)
    with path.open("a") as fh:
        fh.write('{"id": "bad", "content": "  "}\n')
    run("collection", "create", "docs", "--dimension", "3")
    result = run("ingest", str(path), "-c", "docs", "--quiet", "--commit-every", "10")
    assert result.exit_code == 2
    assert "docs.jsonl:26: empty content (the 20 records before it are committed)" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert rows(conn)[0] == 20 and checkpoint(conn) == (20, False)
    # Rows of the file are numbered through the chunks in the collection's own errors too.
    vectors_file(path, 25, ids=True)
    with path.open("a") as fh:
        fh.write('{"id": "short", "content": "x", "embedding": [1, 2]}\n')
    result = run("ingest", str(path), "-c", "docs", "--quiet", "--commit-every", "10")
    assert "row 25 (id 'short'): embedding has 2 dimensions" in result.stderr


def test_gzipped_csv_and_jsonl_with_the_model_and_a_progress_bar(run, db_url: str, tmp_path: Path, embedder) -> None:
    csv_path = tmp_path / "facts.csv.gz"
    with gzip.open(csv_path, "wt", newline="") as fh:
        fh.write('id,title,content,metadata\nmoon,Tides,"The Moon pulls the oceans, causing tides.",'
                 '"{""topic"": ""science""}"\n')
    jsonl_path = tmp_path / "facts.jsonl.gz"
    with gzip.open(jsonl_path, "wt") as fh:
        fh.write(json.dumps({"id": "bread", "content": "Bake sourdough in a hot oven.", "metadata": {"topic": "cooking"}}))
    run("collection", "create", "facts")
    assert "wrote 1 documents" in run("ingest", str(csv_path), "-c", "facts", "--quiet").output
    shown = run("ingest", str(jsonl_path), "-c", "facts")  # with the bar, on stderr
    assert shown.exit_code == 0 and "wrote 1 documents" in shown.output
    assert "docs/s" in shown.stderr and "ingesting facts.jsonl.gz" in shown.stderr
    with vecpg.connect(db_url) as store:
        facts = store.collection("facts")
        assert facts.search("sea level and the moon", k=1)[0].id == "moon"
        assert facts.count({"topic": "cooking"}) == 1


def test_reading_a_large_gzip_is_a_stream(tmp_path: Path) -> None:
    path = tmp_path / "large.jsonl.gz"
    with gzip.open(path, "wt", compresslevel=1) as fh:
        for i in range(200_000):
            fh.write(json.dumps({"id": str(i), "content": f"document number {i} " * 4}) + "\n")
    reader = open_reader(path)
    try:
        first = next(reader.records)
        assert first["id"] == "0" and reader.unit == "B"
        assert reader.position() < reader.total / 20  # only the first blocks are read
        assert sum(1 for _ in reader.records) == 199_999
        assert reader.position() == reader.total
    finally:
        reader.close()


def test_tenants_checkpoints_of_the_same_file_are_their_own(store: vecpg.Store, logins, conn, tmp_path: Path) -> None:
    store.create_collection("docs", dimension=3)
    path = vectors_file(tmp_path / "shared.jsonl", 30)
    with vecpg.connect(logins["writer"], pool_size=1) as writer:
        docs = writer.collection("docs")
        options = IngestOptions(commit_every=10)
        heard: list[str] = []
        # Tenant a is interrupted after 20 records (a checkpoint as a killed run leaves it).
        with writer.tenant("a"), writer.connection() as c:
            c.execute("INSERT INTO vecpg.ingest_checkpoint (collection, source, fingerprint, records) "
                      "VALUES ('docs', %s, 'another file', 20)", (str(path.resolve()),))
        b = ingest_file(docs, path, options, notify=heard.append, tenant="b")
        assert (b.plan.status, b.records) == ("new", 30) and heard == []
        a = ingest_file(docs, path, options, notify=heard.append, tenant="a")
        assert (a.plan.status, a.records) == ("changed", 30)
        assert ingest_file(docs, path, options, tenant="b").plan.status == "done"
        assert ingest_file(docs, path, options, tenant="a").plan.status == "done"
        assert docs.count(tenant="a") == 30 and docs.count(tenant="b") == 30
    # A writer without a tenant (here the superuser, whom row-level security does not bind)
    # has checkpoints of its own too.
    assert ingest_file(store.collection("docs"), path, options).plan.status == "new"
    assert conn.execute("SELECT tenant_key, records FROM vecpg.ingest_checkpoint ORDER BY 1").fetchall() == [
        ("", 30), ("a", 30), ("b", 30)]
    assert conn.execute("SELECT tenant_id, count(*) FROM vecpg_data.docs GROUP BY 1 ORDER BY 1").fetchall() == [
        ("a", 30), ("b", 30), (None, 30)]


def test_a_role_bound_by_row_level_security_ingests_without_a_tenant(store: vecpg.Store, logins, tmp_path: Path) -> None:
    # The role the embedded server gives applications: COPY straight into the table is refused
    # to it, so even the first load into an empty collection goes through the staging table.
    store.create_collection("docs", dimension=3)
    path = vectors_file(tmp_path / "docs.jsonl", 40)
    result = invoke(logins["writer"], "ingest", str(path), "-c", "docs", "--quiet", "--commit-every", "15")
    assert result.exit_code == 0 and "wrote 40 documents" in result.output, result.output
    assert store.collection("docs").count() == 40


def test_two_ingests_of_one_file_at_once_cannot_both_write_it(store: vecpg.Store, tmp_path: Path) -> None:
    docs = store.create_collection("docs", dimension=3)
    path = vectors_file(tmp_path / "docs.jsonl", 30)
    first, second = plan_ingest(docs, path), plan_ingest(docs, path)  # both start before either commits
    assert run_ingest(docs, first, IngestOptions(commit_every=10)).records == 30
    with pytest.raises(vecpg.InputFileError, match="another ingest of this file into docs committed records"):
        run_ingest(docs, second, IngestOptions(commit_every=10))
    assert docs.count() == 30  # the second one's chunk was rolled back with its checkpoint
