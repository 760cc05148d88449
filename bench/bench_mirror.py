"""Qdrant mirror benchmark: initial mirror, steady-state lag under writes from another process,
and search through the mirror against vecpg's PostgreSQL search and Qdrant Edge used directly.

Run by hand (not a test):
    VECPG_QDRANT_PATH=$(mktemp -d) python bench/bench_mirror.py [--n 100000] [--queries 200] [--url URL]
        [--seconds 40] [--rate 50] [--tx-rows 5]

Without VECPG_QDRANT_PATH it mirrors into a fresh temporary directory (removed at the end).
Steps, in one run on one collection of clustered 384-d vectors (bench_foundation's data):

1. load N vectors (``Collection.load``), build PostgreSQL HNSW (m 16, ef_construction 64);
2. ``enable_mirror()`` (Edge HNSW m 16, ef_construct 64) and time the full copy in this process
   (``vecpg.mirror.sync.sync``) -> points/s; then time ``EdgeBackend.optimize`` (Edge builds HNSW
   only when asked);
3. lag: close this process's shard, start ``vecpg mirror sync --follow`` as a subprocess and a
   writer process that upserts ``--rate`` rows/s (80 % updates of existing ids, 20 % new ids) in
   transactions of ``--tx-rows`` rows. The writer records, per transaction, its outbox seqs
   (read in the transaction) and the wall time right after COMMIT returned. This process polls
   ``SELECT seq FROM vecpg.mirror_outbox`` every 20 ms; an event's lag is (end of the first poll
   that started after the commit and no longer saw the seq) - (commit time): an upper bound, at
   most one poll interval plus one poll query too high. The follower is then stopped by SIGTERM;
4. search, k=10, 200 queries, ground truth by brute force over the vectors as they are after the
   writes: vecpg PostgreSQL at several ef_search; ``coll.search(..., backend="qdrant")``; Edge
   directly through ``EdgeBackend.search`` (what the mirror calls) and raw ``EdgeShard.query``
   at several ``SearchParams(hnsw_ef=...)``.

Prints markdown tables, writes bench/results/mirror.json, drops its collection at the end.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import psycopg
from pgvector.psycopg import register_vector
from tqdm import tqdm

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_foundation import DIM, clustered, ground_truth

import vecpg
from vecpg.db.connection import resolve_url

NAME = "bench_mirror"
POLL_S = 0.02
PG_EF = (40, 64, 100, 200)
EDGE_EF = (16, 32, 64, 128)


def centres() -> np.ndarray:
    return np.random.default_rng(7).normal(size=(200, DIM))


# -- writer process ------------------------------------------------------------------------------
def writer(url: str, n: int, rate: float, tx_rows: int, seconds: float, out: str, ready: Any) -> None:
    """Upsert ``rate`` rows/s for ``seconds``; save per-transaction (commit time, seqs) and the
    final vectors of every id written to ``out`` (.npz)."""
    rng = np.random.default_rng(11)
    c = centres()
    table = f"vecpg_data.{NAME}"
    sql = (f"INSERT INTO {table} (id, embedding) VALUES (%s, %s) "
           "ON CONFLICT (id) DO UPDATE SET embedding = EXCLUDED.embedding")
    seqs_sql = "SELECT array_agg(seq ORDER BY seq) FROM vecpg.mirror_outbox WHERE collection = %s AND at = now()"
    commits: list[float] = []
    seqs: list[list[int]] = []
    final: dict[int, np.ndarray] = {}
    new_id = n
    with psycopg.connect(url) as conn:
        register_vector(conn)
        interval = tx_rows / rate
        ready.wait()
        start = time.time()
        i = 0
        while (due := start + i * interval) < start + seconds:
            if (pause := due - time.time()) > 0:
                time.sleep(pause)
            vecs = (c[rng.integers(0, len(c), tx_rows)] + 0.35 * rng.normal(size=(tx_rows, DIM))).astype(np.float32)
            ids = []
            for _ in range(tx_rows):
                if rng.random() < 0.2:
                    ids.append(new_id)
                    new_id += 1
                else:
                    ids.append(int(rng.integers(0, n)))
            with conn.cursor() as cur:
                cur.executemany(sql, [(str(d), v) for d, v in zip(ids, vecs)])
                got = cur.execute(seqs_sql, (NAME,)).fetchone()[0] or []
            conn.commit()
            commits.append(time.time())
            seqs.append(got)
            for d, v in zip(ids, vecs):
                final[d] = v
            i += 1
    flat_c = np.repeat(np.array(commits), [len(s) for s in seqs])
    flat_s = np.array([x for s in seqs for x in s], dtype=np.int64)
    ids_arr = np.array(sorted(final), dtype=np.int64)
    np.savez(out, commit=flat_c, seq=flat_s, tx_commit=np.array(commits), ids=ids_arr,
             vecs=np.stack([final[d] for d in ids_arr]) if len(ids_arr) else np.zeros((0, DIM), np.float32),
             wall=np.array([start, time.time()]))


# -- helpers -------------------------------------------------------------------------------------
def measure(runs: dict[str, Any], queries: np.ndarray, truth: list[set[int]], rounds: int = 2) -> dict[str, dict[str, Any]]:
    """bench_foundation.measure, but the runs go in a new random order for each query: with the
    fixed order, whichever run came first for a query paid for fetching that query's index pages
    (the PostgreSQL table and index do not fit shared_buffers), and ef_search 40 looked slower
    than ef_search 100 in a first run. Not a rotation, which keeps the cyclic order: the run
    after PostgreSQL's always paid for the caches other processes cooled during its round trip
    (bench_mirror_path.measure)."""
    names = list(runs)
    rng = np.random.default_rng(3)
    for run in runs.values():
        for q in queries[:20]:
            run(q)
    latencies: dict[str, list[float]] = {name: [] for name in runs}
    recalls: dict[str, list[float]] = {name: [] for name in runs}
    for r in range(rounds):
        for q, expected in tqdm(list(zip(queries, truth)), desc=f"search round {r + 1}/{rounds}", leave=False):
            for name in rng.permutation(names):
                start = time.perf_counter()
                found = runs[name](q)
                latencies[name].append((time.perf_counter() - start) * 1000)
                recalls[name].append(len(set(found) & expected) / 10)
    out = {}
    for name in runs:
        lat = np.array(latencies[name])
        out[name] = {"p50_ms": round(float(np.percentile(lat, 50)), 3), "p99_ms": round(float(np.percentile(lat, 99)), 3),
                     "qps": round(1000 / float(lat.mean()), 1), "recall@10": round(float(np.mean(recalls[name])), 4)}
    return out


def timed(fn: Any, times: int) -> dict[str, float]:
    lat = []
    for _ in range(times):
        start = time.perf_counter()
        fn()
        lat.append((time.perf_counter() - start) * 1000)
    return {"p50_ms": round(float(np.percentile(lat, 50)), 3), "mean_ms": round(float(np.mean(lat)), 3)}


class Counted:
    """An EdgeBackend whose upserts advance a progress bar and are timed (Edge's own share)."""

    def __init__(self, backend: Any, bar: tqdm) -> None:
        self.backend, self.bar, self.upsert_s = backend, bar, 0.0

    def upsert(self, name: str, points: Any) -> None:
        start = time.perf_counter()
        self.backend.upsert(name, points)
        self.upsert_s += time.perf_counter() - start
        self.bar.update(len(points))

    def __getattr__(self, attr: str) -> Any:
        return getattr(self.backend, attr)


def pct(values: np.ndarray, p: float) -> float:
    return round(float(np.percentile(values, p)) * 1000, 1) if len(values) else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--url", default=None)
    parser.add_argument("--seconds", type=float, default=40.0, help="length of the lag phase")
    parser.add_argument("--rate", type=float, default=50.0, help="rows written per second in the lag phase")
    parser.add_argument("--tx-rows", type=int, default=5, help="rows per writer transaction")
    parser.add_argument("--rounds", type=int, default=2, help="search rounds over the queries")
    args = parser.parse_args()

    url = resolve_url(args.url)
    own_dir = not os.environ.get("VECPG_QDRANT_PATH", "").strip()
    if own_dir:
        os.environ["VECPG_QDRANT_PATH"] = tempfile.mkdtemp(prefix="vecpg-bench-mirror-")
    qdrant_path = os.environ["VECPG_QDRANT_PATH"]
    results: dict[str, Any] = {"date": date.today().isoformat(), "n": args.n, "queries": args.queries,
                               "machine": f"{platform.machine()}, {os.cpu_count()} cores", "qdrant_path": qdrant_path}

    store = vecpg.connect(url, migrate_schema=True)
    c = centres()
    data = clustered(args.n, 1, c)
    queries = clustered(args.queries, 2, c)

    # -- 1. the collection in PostgreSQL --------------------------------------------------------
    store.drop_collection(NAME, missing_ok=True)
    coll = store.create_collection(NAME, dimension=DIM)
    start = time.perf_counter()
    coll.load(({"id": str(i), "embedding": data[i]} for i in range(args.n)), progress=True, total=args.n)
    results["pg_load_rows_per_s"] = round(args.n / (time.perf_counter() - start))
    print("building PostgreSQL HNSW (m 16, ef_construction 64)...", flush=True)
    start = time.perf_counter()
    coll.create_index(vecpg.HNSW(m=16, ef_construction=64))
    results["pg_hnsw_build_s"] = round(time.perf_counter() - start, 1)
    with store.connection() as conn:
        conn.execute(f"VACUUM ANALYZE vecpg_data.{NAME}")

    # -- 2. initial mirror ------------------------------------------------------------------------
    from vecpg.mirror.edge import EdgeBackend
    from vecpg.mirror.sync import sync

    coll.enable_mirror()
    backend = EdgeBackend(qdrant_path)
    with tqdm(total=args.n, unit="point", desc="initial mirror (full copy)") as bar:
        counted = Counted(backend, bar)
        with psycopg.connect(store.admin_url, autocommit=True) as conn:
            start = time.perf_counter()
            events = sync(conn, counted, [NAME])
            copy_s = time.perf_counter() - start
    count = backend.count(NAME)
    results["initial_mirror"] = {"seconds": round(copy_s, 1), "points": count, "events": events,
                                 "points_per_s": round(count / copy_s),
                                 "edge_upsert_s": round(counted.upsert_s, 1),
                                 "pg_read_and_convert_s": round(copy_s - counted.upsert_s, 1)}
    print(f"initial mirror: {count:,} points in {copy_s:.1f} s ({count / copy_s:,.0f} points/s; "
          f"Edge upsert {counted.upsert_s:.1f} s of it)", flush=True)
    print("Edge optimize (HNSW m 16, ef_construct 64)...", flush=True)
    done = threading.Event()

    def ticker() -> None:
        with tqdm(desc="Edge optimize", unit="s", bar_format="{desc}: {elapsed}") as t:
            while not done.wait(1.0):
                t.update(1)

    th = threading.Thread(target=ticker, daemon=True)
    th.start()
    start = time.perf_counter()
    optimized = backend.optimize(NAME)
    opt_s = time.perf_counter() - start
    done.set()
    th.join()
    info = backend.info(NAME)
    results["edge_optimize"] = {"seconds": round(opt_s, 1), "optimized": optimized, "info": str(info)}
    print(f"Edge optimize: {opt_s:.1f} s; {info}", flush=True)
    backend.close()

    # -- 3. steady-state lag ----------------------------------------------------------------------
    log = Path(tempfile.mkstemp(prefix="vecpg-follow-", suffix=".log")[1])
    with log.open("w") as logf:
        follower = subprocess.Popen([sys.executable, "-m", "vecpg.cli", "--url", url, "mirror", "sync", "--follow",
                                     "--collection", NAME], stdout=logf, stderr=subprocess.STDOUT, env=os.environ.copy())
    poll = psycopg.connect(url, autocommit=True)
    # Ready when a probe write has gone through the follower.
    with psycopg.connect(url, autocommit=True) as w:
        register_vector(w)
        w.execute(f"UPDATE vecpg_data.{NAME} SET embedding = %s WHERE id = '0'", (data[0],))
        w.execute(f"UPDATE vecpg_data.{NAME} SET embedding = %s WHERE id = '0'", (data[0] + 0.01,))
        w.execute(f"UPDATE vecpg_data.{NAME} SET embedding = %s WHERE id = '0'", (data[0],))
    deadline = time.time() + 60
    while poll.execute("SELECT count(*) FROM vecpg.mirror_outbox WHERE collection = %s", (NAME,)).fetchone()[0]:
        if time.time() > deadline or follower.poll() is not None:
            raise SystemExit(f"follower did not start; see {log}:\n{log.read_text()}")
        time.sleep(0.05)

    ctx = mp.get_context("spawn")
    ready = ctx.Event()
    out = tempfile.mktemp(prefix="vecpg-writer-", suffix=".npz")
    proc = ctx.Process(target=writer, args=(url, args.n, args.rate, args.tx_rows, args.seconds, out, ready))
    proc.start()
    time.sleep(2.0)  # the writer's interpreter starts (spawn)
    polls: list[tuple[float, float, set[int]]] = []
    status_lag: list[float] = []
    ready.set()
    begin = time.time()
    with tqdm(total=round(args.seconds), unit="s", desc=f"lag phase ({args.rate:g} rows/s)") as bar:
        tail_until = None
        i = 0
        while True:
            t0 = time.time()
            present = {r[0] for r in poll.execute("SELECT seq FROM vecpg.mirror_outbox WHERE collection = %s",
                                                  (NAME,)).fetchall()}
            t1 = time.time()
            polls.append((t0, t1, present))
            if i % 5 == 0:
                row = poll.execute("SELECT extract(epoch FROM lag) FROM vecpg.mirror_status() WHERE collection = %s",
                                   (NAME,)).fetchone()
                status_lag.append(float(row[0]) if row and row[0] is not None else 0.0)
            i += 1
            if (elapsed := min(round(t1 - begin), round(args.seconds))) != bar.n:
                bar.update(elapsed - bar.n)
            if not proc.is_alive() and tail_until is None:
                tail_until = time.time() + 30
            if tail_until is not None and (not present or time.time() > tail_until):
                break
            time.sleep(max(0.0, POLL_S - (time.time() - t0)))
    proc.join()
    if proc.exitcode != 0:
        raise SystemExit(f"writer failed with exit code {proc.exitcode}")
    w = np.load(out)
    os.unlink(out)

    start = time.perf_counter()
    follower.send_signal(signal.SIGTERM)
    try:
        follower.wait(timeout=30)
        stop_s = round(time.perf_counter() - start, 2)
    except subprocess.TimeoutExpired:
        follower.kill()
        follower.wait()
        stop_s = None
    left = poll.execute("SELECT count(*) FROM vecpg.mirror_outbox WHERE collection = %s", (NAME,)).fetchone()[0]

    # lag per event: first poll that started after the commit and did not see the seq
    starts = np.array([p[0] for p in polls])
    lags, unseen = [], 0
    for commit, seq in zip(w["commit"], w["seq"]):
        j = int(np.searchsorted(starts, commit, side="right"))
        while j < len(polls) and int(seq) in polls[j][2]:
            j += 1
        if j == len(polls):
            unseen += 1
            continue
        lags.append(polls[j][1] - commit)
    lag = np.array(lags)
    tx = w["tx_commit"]
    wall = w["wall"]
    intervals = np.diff(starts)
    results["lag"] = {
        "method": "writer: outbox seqs + wall time after COMMIT; poller: SELECT seq FROM vecpg.mirror_outbox every "
                  f"{POLL_S * 1000:.0f} ms; lag = end of first later poll missing the seq - commit (upper bound)",
        "seconds": round(float(wall[1] - wall[0]), 1), "rate_rows_per_s": args.rate, "tx_rows": args.tx_rows,
        "transactions": len(tx), "events": len(w["seq"]),
        "achieved_rows_per_s": round(len(w["seq"]) / float(wall[1] - wall[0]), 1),
        "p50_ms": pct(lag, 50), "p95_ms": pct(lag, 95), "p99_ms": pct(lag, 99), "max_ms": pct(lag, 100),
        "mean_ms": round(float(lag.mean()) * 1000, 1) if len(lag) else None,
        "events_not_resolved": unseen, "poll_interval_p50_ms": pct(intervals, 50), "poll_interval_p95_ms": pct(intervals, 95),
        "mirror_status_lag_p50_ms": pct(np.array(status_lag), 50), "mirror_status_lag_p95_ms": pct(np.array(status_lag), 95),
        "follower_stop_s_after_sigterm": stop_s, "follower_exit_code": follower.returncode, "outbox_left": int(left),
        "follower_log_tail": log.read_text()[-600:],
    }
    print(f"lag: p50 {results['lag']['p50_ms']} ms, p95 {results['lag']['p95_ms']} ms over {len(lag)} events; "
          f"follower stopped {stop_s} s after SIGTERM (exit {follower.returncode}), outbox left {left}", flush=True)
    poll.close()

    # -- 4. search ------------------------------------------------------------------------------
    if left:
        print(f"syncing the {left} events the follower left...", flush=True)
        coll.sync_mirror()
    final = data
    if len(w["ids"]):
        final = np.concatenate([data, np.zeros((int(w["ids"].max()) + 1 - args.n, DIM), np.float32)]) \
            if w["ids"].max() >= args.n else data.copy()
        present = np.ones(len(final), bool)
        present[args.n:] = False
        final[w["ids"]] = w["vecs"]
        present[w["ids"]] = True
        # ids never written stay absent (zero rows would otherwise match nothing but skew nothing either)
        final = np.where(present[:, None], final, np.float32(1e-9))
    print(f"ground truth for {args.queries} queries over {len(final):,} vectors...", flush=True)
    truth = ground_truth(final, queries)
    with store.connection() as conn:
        conn.execute(f"VACUUM ANALYZE vecpg_data.{NAME}")
        pg_rows = conn.execute(f"SELECT count(*) FROM vecpg_data.{NAME}").fetchone()[0]
        conn.execute("SELECT count(*) FROM vecpg_data.bench_mirror")

    store.mirror_max_lag = 1e9
    store.mirror_fallback = "error"  # a fallback to PostgreSQL would be measured as the mirror otherwise
    mirror = store.mirror_backend()
    results["edge_points_after_writes"] = mirror.count(NAME)
    results["pg_rows_after_writes"] = pg_rows
    results["edge_info_after_writes"] = str(mirror.info(NAME))
    import qdrant_edge as qe

    shard = mirror._shard(NAME)

    def raw(ef: int | None, payload: bool):
        params = qe.SearchParams(hnsw_ef=ef) if ef else None

        def run(q: np.ndarray) -> list[int]:
            req = qe.QueryRequest(limit=10, query=qe.Query.Nearest(q.tolist()), with_payload=payload,
                                  with_vector=False, params=params)
            return [int(p.id) for p in shard.query(req)]
        return run

    runs: dict[str, Any] = {}
    for ef in PG_EF:
        runs[f"PostgreSQL vecpg, ef_search {ef}"] = lambda q, ef=ef: [int(h.id) for h in coll.search(q, k=10, ef_search=ef)]
    runs["mirror: coll.search(backend='qdrant')"] = lambda q: [int(h.id) for h in coll.search(q, k=10, backend="qdrant")]
    runs["Edge direct: EdgeBackend.search"] = lambda q: [int(h.doc_id) for h in mirror.search(NAME, q.tolist(), 10)]
    runs["Edge raw query, default ef, payload"] = raw(None, True)
    for ef in EDGE_EF:
        runs[f"Edge raw query, hnsw_ef {ef}, no payload"] = raw(ef, False)
    results["search"] = measure(runs, queries, truth, rounds=args.rounds)

    # Where the time of one incremental sync batch and of one mirror search goes (this process).
    from vecpg.mirror.points import MirrorPoint
    from vecpg.mirror.search import mirror_state
    from vecpg.mirror.sync import spec_for

    diag: dict[str, Any] = {}
    with psycopg.connect(store.admin_url, autocommit=True) as conn:
        settings = conn.execute("SELECT settings FROM vecpg.mirror WHERE collection = %s", (NAME,)).fetchone()[0]
        spec = spec_for(conn, NAME, settings)
        diag["mirror_state_query (every mirror search)"] = timed(lambda: mirror_state(conn, NAME, 1e9), 200)
    def pooled_state() -> None:
        with store.connection() as conn:
            mirror_state(conn, NAME, 1e9)
    diag["store.connection() + mirror_state (as mirror_search does)"] = timed(pooled_state, 200)
    diag["coll.search(backend='qdrant')"] = timed(lambda: coll.search(queries[0], k=10, backend="qdrant"), 200)
    diag["EdgeBackend.search, same query"] = timed(lambda: mirror.search(NAME, queries[0].tolist(), 10), 200)
    import cProfile
    import io
    import pstats

    prof = cProfile.Profile()
    prof.enable()
    for q in queries:
        coll.search(q, k=10, backend="qdrant")
    prof.disable()
    text = io.StringIO()
    pstats.Stats(prof, stream=text).sort_stats("tottime").print_stats(12)
    results["mirror_search_profile_top_tottime"] = text.getvalue()
    pts = [MirrorPoint(doc_id=str(i), vector=[float(x) for x in final[i]], title=None, content=None, metadata={},
                       tenant_id=None, revision=1, created_at=None, updated_at=None) for i in range(5)]
    diag["EdgeBackend.ensure_collection (every sync batch)"] = timed(lambda: mirror.ensure_collection(spec), 10)
    diag["EdgeBackend.upsert 5 points"] = timed(lambda: mirror.upsert(NAME, pts), 10)
    diag["EdgeBackend.flush"] = timed(lambda: mirror.flush(NAME), 10)
    shard = mirror._shard(NAME)  # ensure_collection reopened it
    results["diagnostics"] = diag

    with store.connection() as conn:
        results["postgres"] = conn.execute("SELECT version()").fetchone()[0].split(" on ")[0]
        results["settings"] = dict(conn.execute(
            "SELECT name, current_setting(name) FROM pg_settings WHERE name IN "
            "('shared_buffers', 'maintenance_work_mem', 'effective_cache_size', 'jit')").fetchall())
    results["pgvector"] = ".".join(map(str, store.pgvector_version))
    try:
        from importlib.metadata import version
        results["qdrant_edge"] = version("qdrant-edge-py")
    except Exception:  # noqa: BLE001
        results["qdrant_edge"] = "?"

    coll.disable_mirror()
    store.drop_collection(NAME)
    store.close()
    if own_dir:
        shutil.rmtree(qdrant_path, ignore_errors=True)
    log.unlink(missing_ok=True)

    outdir = Path(__file__).resolve().parent / "results"
    outdir.mkdir(exist_ok=True)
    (outdir / "mirror.json").write_text(json.dumps(results, indent=2))
    report(results)


def best(search: dict[str, dict[str, Any]], prefix: str) -> tuple[str, dict[str, Any]] | None:
    ok = [(k, v) for k, v in search.items() if k.startswith(prefix) and v["recall@10"] >= 0.95]
    return max(ok, key=lambda kv: kv[1]["qps"]) if ok else None


def report(r: dict[str, Any]) -> None:
    print(f"\n{r['n']:,} x {DIM}-d vectors, {r['postgres']}, pgvector {r['pgvector']}, qdrant-edge-py "
          f"{r['qdrant_edge']}, {r['machine']}, {r['settings']}\n")
    m = r["initial_mirror"]
    print("| step | figure |\n|---|---|")
    print(f"| PostgreSQL load (`Collection.load`) | {r['pg_load_rows_per_s']:,} rows/s |")
    print(f"| PostgreSQL HNSW build | {r['pg_hnsw_build_s']} s |")
    print(f"| initial mirror (full copy, `sync`) | {m['points_per_s']:,} points/s ({m['points']:,} in {m['seconds']} s; "
          f"Edge upsert {m['edge_upsert_s']} s, PG read + conversion {m['pg_read_and_convert_s']} s) |")
    print(f"| Edge optimize (HNSW build) | {r['edge_optimize']['seconds']} s |")
    g = r["lag"]
    print(f"\n| lag under writes ({g['achieved_rows_per_s']} rows/s in {g['tx_rows']}-row transactions, "
          f"{g['seconds']} s, {g['events']} events) | ms |\n|---|---|")
    for key in ("p50_ms", "p95_ms", "p99_ms", "max_ms", "mean_ms"):
        print(f"| {key[:-3]} | {g[key]} |")
    print(f"| `mirror_status()` lag sampled every ~100 ms: p50 / p95 | {g['mirror_status_lag_p50_ms']} / "
          f"{g['mirror_status_lag_p95_ms']} |")
    print(f"\npoll interval p50/p95 {g['poll_interval_p50_ms']}/{g['poll_interval_p95_ms']} ms; "
          f"events not resolved {g['events_not_resolved']}; follower stopped {g['follower_stop_s_after_sigterm']} s "
          f"after SIGTERM (exit {g['follower_exit_code']}); outbox left {g['outbox_left']}\n")
    print("| search (k=10, 1 client) | p50 ms | p99 ms | QPS | recall@10 |\n|---|---|---|---|---|")
    for name, s in r["search"].items():
        print(f"| {name} | {s['p50_ms']} | {s['p99_ms']} | {s['qps']} | {s['recall@10']} |")
    print("\n| component (this process) | p50 ms | mean ms |\n|---|---|---|")
    for name, d in r.get("diagnostics", {}).items():
        print(f"| {name} | {d['p50_ms']} | {d['mean_ms']} |")
    s = r["search"]
    mir = s["mirror: coll.search(backend='qdrant')"]
    pg = best(s, "PostgreSQL")
    edge = best(s, "Edge raw query, hnsw_ef")
    direct = s["Edge direct: EdgeBackend.search"]
    print()
    print(f"mirror QPS / EdgeBackend.search QPS (same defaults): {mir['qps'] / direct['qps']:.2f}")
    print(f"mirror QPS / raw Edge default ef with payload: {mir['qps'] / s['Edge raw query, default ef, payload']['qps']:.2f}")
    if edge:
        print(f"mirror QPS / fastest raw Edge at recall >= 0.95 ({edge[0]}): {mir['qps'] / edge[1]['qps']:.2f}")
    if pg:
        print(f"mirror QPS / fastest PostgreSQL at recall >= 0.95 ({pg[0]}): {mir['qps'] / pg[1]['qps']:.2f}")


if __name__ == "__main__":
    main()
