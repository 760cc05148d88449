"""Fixtures: a real PostgreSQL + pgvector, a migrated fresh database per test, the real model.

The server is the embedded one (in a temporary VECPG_HOME) unless VECPG_TEST_DATABASE_URL
points at another; either way each test gets its own database cloned from a migrated template.
"""

from __future__ import annotations

import itertools
import json
import os
import shutil
import socket
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
import numpy as np
import psycopg
import pytest
import uvicorn
from pgvector.psycopg import register_vector
from psycopg import sql

import vecpg
from vecpg import config
from vecpg.db import migrate
from vecpg.db.server import EmbeddedServer
from vecpg.service import app
from vecpg.service import keys as api_keys

TEMPLATE = "vecpg_test_template"
# Functions row-level security calls for every row, or MMR for every pair it compares: inlinable
# SQL with schema-qualified names, so without the pinned search_path every other vecpg function
# has (a SET clause stops inlining).
INLINED = {"vecpg.current_tenant", "vecpg.cosine_similarity"}
_counter = itertools.count()


def with_database(url: str, dbname: str) -> str:
    """The same server URL pointing at another database."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{dbname}"))


def as_user(url: str, user: str) -> str:
    """The same URL logging in as another role (the embedded server trusts local sockets)."""
    parts = urlsplit(url)
    host = parts.netloc.rsplit("@", 1)[-1]
    return urlunsplit(parts._replace(netloc=f"{user}@{host}"))


def clustered(n: int, dim: int, seed: int = 0) -> np.ndarray:
    """n float32 points around 30 random centres (a different set per seed): vectors whose
    nearest neighbours an index can get wrong, unlike uniform noise."""
    rng = np.random.default_rng(seed)
    centers = rng.normal(size=(30, dim))
    return (centers[rng.integers(0, 30, n)] + 0.3 * rng.normal(size=(n, dim))).astype(np.float32)


def keyword_statistics(conn: psycopg.Connection, collection: str) -> tuple[dict, dict]:
    """The BM25 statistics searches use: {(tenant_key, lexeme): df}, {tenant_key: (n_docs, total_len)}."""
    df = {(r[0], r[1]): r[2] for r in conn.execute("SELECT * FROM vecpg.keyword_statistics(%s)", (collection,))}
    totals = {r[0]: (r[1], r[2]) for r in conn.execute(
        "SELECT * FROM vecpg.keyword_totals(%s) WHERE n_docs <> 0", (collection,))}
    return df, totals


def keyword_recount(conn: psycopg.Connection, table: str) -> tuple[dict, dict]:
    """The same statistics counted again from the rows of ``vecpg_data.<table>``."""
    df = {(r[0], r[1]): r[2] for r in conn.execute(
        f"SELECT coalesce(tenant_id, ''), u.lexeme, count(*) FROM vecpg_data.{table} d, unnest(d.fts) u GROUP BY 1, 2")}
    totals = {r[0]: (r[1], r[2]) for r in conn.execute(
        f"SELECT coalesce(tenant_id, ''), count(*), sum(length(fts)) FROM vecpg_data.{table} GROUP BY 1")}
    return df, totals


@pytest.fixture(scope="session")
def server_url() -> Iterator[str]:
    """URL of a PostgreSQL server with pgvector, for the whole session."""
    external = os.environ.get("VECPG_TEST_DATABASE_URL")
    if external:
        yield external
        return
    # Tests need little memory; keep the test server small whatever the machine.
    os.environ.setdefault("VECPG_SHARED_BUFFERS", "256MB")
    # Not under tmp_path_factory: pytest deletes all but its three latest base directories, so a
    # pytest run started beside this one would delete the running server's data directory.
    home = Path(tempfile.mkdtemp(prefix="vecpg-test-home-"))
    server = EmbeddedServer(home)
    url = server.start()
    yield url
    server.stop()
    shutil.rmtree(home, ignore_errors=True)


def _admin(server_url: str) -> psycopg.Connection:
    return psycopg.connect(with_database(server_url, "postgres"), autocommit=True)


def _create_database(server_url: str, name: str, template: str | None = None) -> str:
    with _admin(server_url) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        statement = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
        if template:
            statement = sql.SQL("{} TEMPLATE {}").format(statement, sql.Identifier(template))
        conn.execute(statement)
    return with_database(server_url, name)


def _drop_database(server_url: str, name: str) -> None:
    with _admin(server_url) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@pytest.fixture(scope="session")
def template_url(server_url: str) -> str:
    """A database migrated to head once; per-test databases are cloned from it."""
    url = _create_database(server_url, TEMPLATE)
    migrate.upgrade(url)
    return url


@pytest.fixture
def blank_db_url(server_url: str) -> Iterator[str]:
    """A fresh, empty database (no vecpg schema) for this test."""
    name = f"vecpg_test_blank_{os.getpid()}_{next(_counter)}"
    yield _create_database(server_url, name)
    _drop_database(server_url, name)


@pytest.fixture
def make_database(server_url: str) -> Iterator[Callable[[], str]]:
    """Make empty databases (no vecpg schema) on demand; all dropped after the test."""
    names: list[str] = []

    def make() -> str:
        names.append(f"vecpg_test_extra_{os.getpid()}_{next(_counter)}")
        return _create_database(server_url, names[-1])

    yield make
    for name in names:
        _drop_database(server_url, name)


@pytest.fixture
def db_url(server_url: str, template_url: str) -> Iterator[str]:
    """A fresh database at vecpg's newest revision for this test."""
    name = f"vecpg_test_{os.getpid()}_{next(_counter)}"
    yield _create_database(server_url, name, template=TEMPLATE)
    _drop_database(server_url, name)


@pytest.fixture
def store(db_url: str) -> Iterator[vecpg.Store]:
    """A store on this test's database."""
    with vecpg.connect(db_url) as s:
        yield s


@pytest.fixture
def conn(db_url: str) -> Iterator[psycopg.Connection]:
    """A plain autocommit psycopg connection, as any other client would have (with pgvector's adapter)."""
    with psycopg.connect(db_url, autocommit=True) as c:
        register_vector(c)
        yield c


@pytest.fixture
def logins(db_url: str) -> dict[str, str]:
    """URLs that log in as non-superuser roles, members of vecpg_reader, vecpg_writer, vecpg_admin."""
    urls = {}
    with _admin(db_url) as conn:
        for group in ("reader", "writer", "admin"):
            role = f"vecpg_test_{group}"
            if not conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)).fetchone():
                conn.execute(sql.SQL("CREATE ROLE {} LOGIN").format(sql.Identifier(role)))
            conn.execute(sql.SQL("GRANT {} TO {}").format(sql.Identifier(f"vecpg_{group}"), sql.Identifier(role)))
            urls[group] = as_user(db_url, role)
    return urls


@pytest.fixture(scope="session")
def embedder() -> vecpg.Embedder:
    """The real all-MiniLM-L6-v2 model, loaded once per session."""
    from vecpg.embedding import embedder_for

    return embedder_for(vecpg.DEFAULT_MODEL)


@pytest.fixture(scope="session")
def models_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """VECPG_MODELS_DIR for the session: ONNX exports go to a temporary directory, never the user's."""
    path = tmp_path_factory.mktemp("models")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(config.MODELS_DIR_ENV, str(path))
        yield path


@pytest.fixture(scope="session")
def onnx_embedder(models_dir: Path) -> vecpg.Embedder:
    """The real model exported to ONNX (once per session, a few seconds) and shared like any embedder."""
    from vecpg.embedding import embedder_for

    return embedder_for(vecpg.DEFAULT_MODEL, "onnx")


@pytest.fixture(scope="session")
def onnx_int8_embedder(onnx_embedder: vecpg.Embedder) -> vecpg.Embedder:
    """The same export quantized to int8 weights."""
    from vecpg.embedding import embedder_for

    return embedder_for(vecpg.DEFAULT_MODEL, "onnx-int8")


@pytest.fixture(scope="session")
def sample_texts() -> list[str]:
    """Real sentences (the demo corpus, title and content as collections embed them), and a text
    past the model's 256 tokens."""
    corpus = Path(__file__).resolve().parent.parent / "vecpg" / "data" / "sample_corpus.jsonl"
    rows = [json.loads(line) for line in corpus.read_text(encoding="utf-8").splitlines() if line.strip()]
    long = " ".join(row["content"] for row in rows[:30])
    return [f"{row['title']} {row['content']}" for row in rows[::12]] + [long, "Café, naïve coöperation — ünïcode?"]


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return Path(__file__).resolve().parent.parent


class CountingEmbedder:
    """The real model, counting the texts it is asked to embed (model calls are what the
    embedding queue and the query cache promise to save): ``texts`` all of them, ``calls`` each
    call's. ``fail_on``: texts containing it raise, as a model failing on one input would."""

    def __init__(self, inner: vecpg.Embedder, fail_on: str | None = None) -> None:
        self.inner, self.fail_on = inner, fail_on
        self.model, self.dimension = inner.model, inner.dimension
        self.texts: list[str] = []
        self.calls: list[list[str]] = []
        self._lock = threading.Lock()

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        if self.fail_on is not None and any(self.fail_on in t for t in texts):
            raise RuntimeError(f"cannot embed a text containing {self.fail_on!r}")
        with self._lock:
            self.texts.extend(texts)
            self.calls.append(list(texts))
        return self.inner.embed(texts)

    def for_collection(self, model: str, embedder: str | None = None) -> CountingEmbedder:
        """Shaped like ``Store.embedder_for_collection``, to give a Worker."""
        return self


@pytest.fixture
def counting(embedder: vecpg.Embedder) -> CountingEmbedder:
    return CountingEmbedder(embedder)


# -- vecpg serve (tests/test_service*.py) -----------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Served:
    """An app served by uvicorn in a thread; ``client(key)`` talks to it."""

    def __init__(self, application: Any) -> None:
        self.port = free_port()
        self.server = uvicorn.Server(uvicorn.Config(application, host="127.0.0.1", port=self.port,
                                                    log_level="warning", lifespan="off"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.02)
        self.url = f"http://127.0.0.1:{self.port}"

    def client(self, key: str | None = None, header: str = "bearer") -> httpx.Client:
        headers = {} if key is None else ({"Authorization": f"Bearer {key}"} if header == "bearer"
                                          else {"api-key": key})
        return httpx.Client(base_url=self.url, headers=headers, timeout=30)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)


@pytest.fixture
def app_store(logins: dict[str, str]) -> Iterator[vecpg.Store]:
    """The store the service runs on: an ordinary role (row-level security binds it), admin rights."""
    with vecpg.connect(logins["admin"], pool_size=4) as store:
        yield store


@pytest.fixture
def serve(app_store: vecpg.Store) -> Iterator[Callable[..., Served]]:
    started: list[Served] = []

    def start(**settings: object) -> Served:
        settings.setdefault("llm", lambda prompt: "The Moon pulls the oceans [1].")
        started.append(Served(app(app_store, **settings)))
        return started[-1]

    yield start
    for served in started:
        served.stop()


@pytest.fixture
def make_key(app_store: vecpg.Store) -> Callable[..., str]:
    def make(tenant: str | None = "acme", scope: str = "read", collection: str | None = None, **kw: object) -> str:
        text, statement = api_keys.new_key(tenant, scope, collection, **kw)  # type: ignore[arg-type]
        app_store.run(statement)
        return text

    return make
