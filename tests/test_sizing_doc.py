"""docs/sizing.md against the code: its tables are ``vecpg.index.sizing.markdown()``, and what it
says of each size is what ``vecpg index recommend`` says for the same rows and dimensions."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

import vecpg
from vecpg.cli import main
from vecpg.index.advice import format_bytes, recommend
from vecpg.index.sizing import DIMENSIONS, MEASURED, OPTIONS, ROWS, markdown, plan
from vecpg.storage import STORAGES

DOC = Path(__file__).resolve().parent.parent / "docs" / "sizing.md"
BEGIN, END = "<!-- sizing tables: python -m vecpg.index.sizing --markdown -->", "<!-- end of sizing tables -->"


def doc_tables() -> str:
    text = DOC.read_text(encoding="utf-8")
    return text[text.index(BEGIN) + len(BEGIN):text.index(END)].strip("\n") + "\n"


def doc_rows() -> dict[tuple[str, str, str], list[str]]:
    """The first table's cells by (vectors, dimensions, option): ("1M", "1,536", "halfvec")."""
    rows = {}
    for line in doc_tables().split("\n\n")[0].splitlines()[2:]:
        cells = [c.strip() for c in line.strip("|").split("|")]
        rows[(cells[0], cells[1], cells[2])] = cells[3:]
    return rows


def test_the_pages_tables_are_the_modules() -> None:
    """Regenerate with `python -m vecpg.index.sizing --markdown` after changing a constant or a formula."""
    assert doc_tables() == markdown()


@pytest.mark.parametrize("dimension", DIMENSIONS)
@pytest.mark.parametrize("rows", ROWS)
def test_the_page_states_what_the_advice_recommends(rows: int, dimension: int) -> None:
    """Each option's method and index size in the page are recommend's for that storage and quantization."""
    stated = doc_rows()
    for option, (storage, quantization) in OPTIONS.items():
        advice = recommend("docs", rows, dimension, 2**40, 2**40, STORAGES[storage], quantization)
        method, index, build = stated[(f"{rows // 1_000_000}M", f"{dimension:,}", option)][:3]
        assert method == f"{advice.method} " + ", ".join(f"{k} {v}" for k, v in advice.params.items())
        assert (index, build) == (format_bytes(advice.index_bytes or 0), format_bytes(advice.build_bytes or 0))
    # The rule of thumb the page is written around.
    assert plan(rows, dimension).method == ("hnsw" if rows <= 10_000_000 else "ivfflat")


@pytest.mark.parametrize("option", list(OPTIONS))
def test_the_command_line_gives_the_pages_figures(store: vecpg.Store, db_url: str, option: str) -> None:
    """`vecpg index recommend --rows N [--quantization Q]` on an empty collection of each option's
    storage and each dimension."""
    stated = doc_rows()
    runner = CliRunner()
    storage, quantization = OPTIONS[option]
    asked = ["--quantization", quantization] if quantization else []
    for dimension in DIMENSIONS:
        name = f"plan_{option}_{dimension}"
        store.create_collection(name, dimension=dimension, storage=storage)
        for rows in ROWS:
            out = runner.invoke(main, ["--url", db_url, "index", "recommend", "-c", name, "--rows", str(rows),
                                       *asked]).output
            method, index, build = stated[(f"{rows // 1_000_000}M", f"{dimension:,}", option)][:3]
            assert f"recommended:    {method.replace(' ', ' (', 1)})" in out
            assert f"estimated size: {index} (build memory {build})" in out
            advice = json.loads(runner.invoke(main, ["--url", db_url, "index", "recommend", "-c", name, "--rows",
                                                     str(rows), "--json", *asked]).output)
            assert format_bytes(advice["index_bytes"]) == index


def test_the_page_names_where_its_figures_come_from() -> None:
    text = DOC.read_text(encoding="utf-8")
    assert "python bench/bench_sizing.py" in text and "python -m vecpg.index.sizing --markdown" in text
    # The date, server and sample of the constants, as the module records them.
    assert f"Measured on {MEASURED['date']}" in text and f"--n {MEASURED['rows']}" in text
    assert f"PostgreSQL {MEASURED['postgres']} and pgvector {MEASURED['pgvector']}" in text


def test_plan_refuses_what_was_not_measured() -> None:
    with pytest.raises(vecpg.InvalidArgument, match="measured for 384, 1536"):
        plan(1_000_000, 768)
    with pytest.raises(vecpg.InvalidArgument, match="unknown option"):
        plan(1_000_000, 384, "pq")
