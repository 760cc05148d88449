"""Search options: one definition in Python (vecpg/search/options.py), held against the SQL functions.

Every bound of every option is tried on a real database at the bound and just outside it, through
the SQL function that checks it; Python must accept and refuse exactly the same values. Defaults
are compared by results: a search given Python's defaults explicitly equals one given none.
"""

from __future__ import annotations

from dataclasses import fields
from typing import Any

import numpy as np
import psycopg
import pytest
from psycopg.types.json import Jsonb

import vecpg
from vecpg.evaluation import checked_options
from vecpg.search import HybridOptions, KeywordOptions, Options, VectorOptions, hybrid_query
from vecpg.search.options import Spec, spec_of

K = 5
DOCS = [
    ("moon", "The Moon's gravity raises the tides; the Sun's gravity adds spring tides."),
    ("bread", "Bake sourdough bread at a high temperature with steam for a crisp crust."),
    ("oven", "A hot oven browns bread; a cool oven dries meringue and bread crumbs."),
    ("stars", "Stars form when clouds of gas collapse under their own gravity."),
    ("tides", "Spring tides come with the new and the full moon, twice a month."),
    ("crust", "A crust forms on bread when the oven is hot and steamy."),
]
# The SQL function that checks each mode's options, called with one option set.
CALLS = {
    VectorOptions: "SELECT vecpg.apply_search_options(%s)",
    KeywordOptions: "SELECT * FROM vecpg.keyword_search('opts', 'bread oven moon', 5, '{}', %s)",
    HybridOptions: "SELECT * FROM vecpg.hybrid_search('opts', 'bread oven moon', '[1,0]', 5, '{}', %s)",
}


@pytest.fixture
def opts(store: vecpg.Store) -> vecpg.Collection:
    coll = store.create_collection("opts", dimension=2)
    coll.upsert([{"id": i, "content": c, "embedding": [1, n]} for n, (i, c) in enumerate(DOCS)])
    return coll


def own_options(cls: type[Options]) -> list[tuple[str, Spec]]:
    return [(f.name, f.metadata["spec"]) for f in fields(cls) if "spec" in f.metadata]


def edges(name: str, spec: Spec) -> list[tuple[Any, bool]]:
    """Values at each bound (allowed) and just outside it (refused)."""
    if spec.choices:
        return [*((c, True) for c in spec.choices), ("no-such-" + name, False)]
    if spec.kind is bool:
        return [(True, True), (False, True), ("yes", False)]
    if spec.kind is int:
        lo = K if name == "candidates" else spec.lo  # hybrid lists are at least k long
        return [(lo, True), (lo - 1, False), (spec.hi, True), (spec.hi + 1, False)]  # type: ignore[operator]
    out: list[tuple[Any, bool]] = []
    if spec.lo is not None:
        out += [(spec.lo, True), (spec.lo - 0.001, False)]
    if spec.hi is not None:
        out += [(spec.hi, True), (spec.hi + 0.001, False)]
    if spec.above is not None:
        out += [(spec.above + 1e-6, True), (spec.above, False)]
    return out


def sql_accepts(conn: psycopg.Connection, cls: type[Options], name: str, value: Any) -> bool:
    try:
        with conn.transaction():
            conn.execute(CALLS[cls], (Jsonb({name: value}),)).fetchall()
    except psycopg.Error as exc:
        assert exc.sqlstate == "VP005", (name, value, exc)
        return False
    return True


def python_accepts(cls: type[Options], name: str, value: Any) -> bool:
    try:
        options = cls.from_mapping({name: value})
        if isinstance(options, HybridOptions):
            options.candidates_for(K)
    except vecpg.InvalidArgument:
        return False
    return True


@pytest.mark.parametrize("cls", [VectorOptions, KeywordOptions, HybridOptions])
def test_python_and_sql_allow_the_same_values(opts: vecpg.Collection, conn: psycopg.Connection,
                                              cls: type[Options]) -> None:
    tried = 0
    for name, spec in own_options(cls):
        for value, allowed in edges(name, spec):
            assert python_accepts(cls, name, value) is allowed, (name, value)
            assert sql_accepts(conn, cls, name, value) is allowed, (name, value)
            tried += 1
    assert tried >= 3 * len(own_options(cls))


def test_vector_defaults_are_pgvectors(conn: psycopg.Connection) -> None:
    conn.execute("SELECT '[1]'::vector")  # loads pgvector, which defines its settings
    for name, setting in VectorOptions.SETTINGS.items():
        current = conn.execute("SELECT current_setting(%s)", (setting,)).fetchone()
        assert current == (str(spec_of(VectorOptions, name).default),), name
    assert conn.execute("SELECT current_setting('hnsw.iterative_scan')").fetchone() == (VectorOptions().value("iterative_scan"),)


def ranked(conn: psycopg.Connection, cls: type[Options], options: dict[str, Any]) -> list[tuple[Any, ...]]:
    columns = "id, score" if cls is KeywordOptions else "id, score, vector_rank, keyword_rank"
    return conn.execute(CALLS[cls].replace("SELECT *", f"SELECT {columns}"), (Jsonb(options),)).fetchall()


def test_keyword_defaults_are_sqls(opts: vecpg.Collection, conn: psycopg.Connection) -> None:
    defaults = {name: spec.default for name, spec in own_options(KeywordOptions)}
    assert ranked(conn, KeywordOptions, defaults) == ranked(conn, KeywordOptions, {})
    assert ranked(conn, KeywordOptions, {**defaults, "k1": 2.0}) != ranked(conn, KeywordOptions, {})  # it can fail
    assert ranked(conn, KeywordOptions, {**defaults, "b": 0.9}) != ranked(conn, KeywordOptions, {})


def test_hybrid_defaults_are_sqls(opts: vecpg.Collection, conn: psycopg.Connection) -> None:
    options = HybridOptions()
    vector_weight, keyword_weight = options.weights()
    defaults = {"method": options.value("method"), "candidates": options.candidates_for(K),
                "rrf_k": options.value("rrf_k"), "vector_weight": vector_weight, "keyword_weight": keyword_weight,
                "max_postings": options.value("max_postings"), "keyword_index": options.value("keyword_index")}
    assert ranked(conn, HybridOptions, defaults) == ranked(conn, HybridOptions, {})
    rrf = HybridOptions(method="rrf")
    assert ranked(conn, HybridOptions, {"method": "rrf", "rrf_k": rrf.value("rrf_k")}) == \
        ranked(conn, HybridOptions, {"method": "rrf"})
    assert ranked(conn, HybridOptions, {"method": "rrf", "rrf_k": 1}) != ranked(conn, HybridOptions, {"method": "rrf"})
    convex = dict(zip(("vector_weight", "keyword_weight"), HybridOptions(method="convex").weights()))
    assert ranked(conn, HybridOptions, {"method": "convex", **convex}) == ranked(conn, HybridOptions, {"method": "convex"})
    assert ranked(conn, HybridOptions, {"method": "convex", "vector_weight": 1, "keyword_weight": 1}) != \
        ranked(conn, HybridOptions, {"method": "convex"})
    assert HybridOptions().candidates_for(300) == 1000  # 4*k, at most the largest allowed


def test_tuning_goes_by_keyword_or_as_an_options_object(opts: vecpg.Collection) -> None:
    by_keyword = opts.search([1, 0], k=3, ef_search=100, probes=4)
    assert opts.search([1, 0], k=3, options=vecpg.VectorOptions(ef_search=100, probes=4)) == by_keyword
    assert opts.search([1, 0], k=3, options={"ef_search": 100}, probes=4) == by_keyword
    vector = np.array([1, 0], dtype=np.float32)  # the collection has no model to embed the text
    def hybrid(options: object) -> list[vecpg.SearchResult]:
        return opts.store.run(hybrid_query(opts, "bread oven", vector, 3, None, options))

    given = hybrid({"method": "rrf", "k1": 1.2})
    assert hybrid(vecpg.HybridOptions(method="rrf", keyword=vecpg.KeywordOptions(k1=1.2))) == given
    assert given != hybrid({"method": "rrf"})


def test_an_option_the_mode_does_not_take_is_refused(opts: vecpg.Collection) -> None:
    with pytest.raises(vecpg.InvalidArgument, match="'efsearch'.*vector search takes ef_search"):
        opts.search([1, 0], k=3, efsearch=100)
    with pytest.raises(vecpg.InvalidArgument, match="unknown vector search option.*'k1'"):
        opts.search([1, 0], k=3, k1=1.2)  # a keyword option, in vector mode
    with pytest.raises(vecpg.InvalidArgument, match="unknown keyword search option.*'method'"):
        opts.search("bread", k=3, mode="keyword", method="rrf")


def test_eval_checks_every_modes_options_before_it_starts() -> None:
    with pytest.raises(vecpg.InvalidArgument, match="k1 must be >= 0"):
        checked_options({"keyword": {"k1": -1}}, ("keyword",))
    with pytest.raises(vecpg.InvalidArgument, match="method must be one of adaptive, rrf, convex"):
        checked_options({"hybrid": {"method": "borda"}}, ("hybrid",))
    checked = checked_options({"vector": {"ef_search": 100}}, ("vector",))
    assert checked == {"vector": VectorOptions(ef_search=100)}


def test_the_command_lines_tuning_options_come_from_the_dataclasses() -> None:
    from vecpg.cli.search import TUNING, search

    params = {p.name: p for p in search.params}
    for name in TUNING:
        spec = spec_of(HybridOptions, name)
        choices = getattr(params[name].type, "choices", None)
        assert tuple(choices or ()) == spec.choices, name
        assert spec.help in (params[name].help or ""), name  # type: ignore[attr-defined]


def test_include_fetches_only_the_fields_asked_for(store) -> None:  # type: ignore[no-untyped-def]
    import vecpg
    from vecpg.errors import InvalidArgument

    c = store.create_collection("fields", dimension=3)
    c.upsert([{"id": "a", "title": "A", "content": "alpha", "embedding": [1, 0, 0], "metadata": {"k": 1}},
              {"id": "b", "title": "B", "content": "beta", "embedding": [0, 1, 0]}])
    full = c.search([1, 0, 0], k=2)
    bare = c.search([1, 0, 0], k=2, include=())
    assert [(h.id, h.distance) for h in bare] == [(h.id, h.distance) for h in full]
    assert (bare[0].title, bare[0].content, bare[0].metadata) == (None, "", {})
    some = c.search([1, 0, 0], k=1, include=["metadata"], ef_search=50)
    assert (some[0].title, some[0].content, some[0].metadata) == (None, "", {"k": 1})
    c.create_index(vecpg.HNSW(quantization="binary"))
    assert c.search([1, 0, 0], k=1, include=("title",))[0].title == "A"
    for bad in (["vector"], "title"):
        with pytest.raises(InvalidArgument):
            c.search([1, 0, 0], k=1, include=bad)
