"""The seam (vecpg/ops/): operations are data, the store's runner does the I/O.

Each test runs real operations on the real server and checks what the runner promises: one
connection for an operation's statements, none held while Python works, failures rolled back
and handed to the operation, vecpg's errors, and the same operation on a connection you hold.
"""

from __future__ import annotations

import psycopg
import pytest

import vecpg
from vecpg.errors import CollectionNotFound
from vecpg.ops import catalog
from vecpg.ops.runner import Held, Runner
from vecpg.ops.statement import Call, Statement, Steps, each, number, scalar

PID = "SELECT pg_backend_pid()"


def test_a_statement_is_data_until_a_runner_runs_it(store: vecpg.Store) -> None:
    count = Statement("SELECT count(*) FROM vecpg.collection", None, number)
    assert store.run(count) == 0
    store.create_collection("docs", dimension=2)
    assert store.run(count) == 1  # the same object, run again
    assert store.run(Statement("SELECT x, x * 2 FROM generate_series(1, 3) x", None, each(lambda a, b: a + b))) \
        == [3, 6, 9]


def test_the_steps_of_an_operation_share_one_connection(store: vecpg.Store) -> None:
    def three_pids() -> Steps[list[int]]:
        pids = []
        for _ in range(3):
            pids.append((yield Statement(PID, None, scalar)))
        return pids

    assert len(set(store.run(three_pids()))) == 1


def test_no_connection_is_held_while_python_works(db_url: str) -> None:
    with vecpg.connect(db_url, pool_size=1) as store:
        def embed_then_query() -> Steps[tuple[int, int]]:
            # With a pool of one, a connection held during the Call would make this inner run wait.
            inner = yield Call(lambda: store.run(Statement(PID, None, scalar)))
            outer = yield Statement(PID, None, scalar)
            return inner, outer

        inner, outer = store.run(embed_then_query())
        assert inner == outer  # the pool's one connection, used in turn


def test_inside_a_tenant_the_steps_share_its_transaction(store: vecpg.Store, logins: dict[str, str]) -> None:
    store.create_collection("docs", dimension=2)
    with vecpg.connect(logins["writer"], pool_size=2) as writer:
        def tenant_and_transaction() -> Steps[tuple[str, int, int]]:
            tenant = yield Statement("SELECT current_setting('vecpg.tenant_id', true)", None, scalar)
            first = yield Statement("SELECT txid_current()", None, scalar)
            second = yield Statement("SELECT txid_current()", None, scalar)
            return tenant, first, second

        with writer.tenant("acme"):
            tenant, first, second = writer.run(tenant_and_transaction())
        assert tenant == "acme" and first == second


def test_a_failed_statement_rolls_back_and_is_thrown_into_the_operation(store: vecpg.Store) -> None:
    coll = store.create_collection("docs", dimension=2)
    coll.upsert([{"id": "a", "embedding": [1, 0]}])

    def recovers() -> Steps[tuple[str, int, int]]:
        before = yield Statement(PID, None, scalar)
        try:
            yield Statement("SELECT vecpg.no_such_function()")
        except psycopg.errors.UndefinedFunction as exc:
            caught = type(exc).__name__
        after = yield Statement(PID, None, scalar)
        return caught, before, after

    caught, before, after = store.run(recovers())
    assert caught == "UndefinedFunction"
    assert isinstance(before, int) and isinstance(after, int)  # a new connection served the rest
    assert coll.count() == 1  # and the pool's connections still work


def test_database_errors_reach_the_operation_as_vecpg_errors(store: vecpg.Store) -> None:
    def asks_for_a_missing_collection() -> Steps[str]:
        try:
            yield Statement("SELECT vecpg.drop_collection('nope', false)")
        except CollectionNotFound as exc:
            return f"caught: {exc}"
        return "not raised"

    assert store.run(asks_for_a_missing_collection()).startswith("caught: ")
    with pytest.raises(CollectionNotFound):
        store.run(catalog.drop_collection("nope", False))


def test_an_error_the_operation_does_not_catch_leaves_nothing_written(store: vecpg.Store,
                                                                      logins: dict[str, str]) -> None:
    store.create_collection("docs", dimension=2)
    with vecpg.connect(logins["writer"], pool_size=1) as writer:
        def writes_then_fails() -> Steps[None]:
            yield Statement("INSERT INTO vecpg_data.docs (id, content, embedding) VALUES ('x', 'x', '[1,1]')")
            yield Call(lambda: 1 / 0)

        with writer.tenant("acme"), pytest.raises(ZeroDivisionError):
            writer.run(writes_then_fails())
        with writer.tenant("acme"):
            assert writer.collection("docs").count() == 0  # the tenant's transaction rolled back


def test_an_operation_runs_on_a_connection_you_hold(store: vecpg.Store, conn: psycopg.Connection) -> None:
    store.create_collection("docs", dimension=2)
    mine = conn.execute(PID).fetchone()[0]
    held = Runner(Held(conn)).run
    assert held(Statement(PID, None, scalar)) == mine
    assert [c.name for c in held(catalog.list_collections())] == ["docs"]
