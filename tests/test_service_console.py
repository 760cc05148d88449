"""The web console at ``/``, driven in a real headless Chromium (Debian's ``chromium``, through
Playwright): the page is served by the real app under uvicorn on loopback, over a real collection
with real embeddings, and the test reads what a person would see.

Set VECPG_CONSOLE_SCREENSHOT=docs/console.png to refresh the screenshot in the docs.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import Served
from fastapi import FastAPI
from playwright.sync_api import Browser, Dialog, Page, expect, sync_playwright

import vecpg
from vecpg.service import app

ANSWER = "Tides follow the Moon [1]."

DOCS = [
    {"id": "tides", "title": "Tides", "metadata": {"topic": "sea"},
     "content": "The Moon's gravity pulls on the oceans, so the tides rise and fall twice a day."},
    {"id": "spring", "title": "Spring tides", "metadata": {"topic": "sea"},
     "content": "Spring tides are the highest tides, when the Sun and the Moon line up at full and new moon."},
    {"id": "harbour", "title": "Tide tables", "metadata": {"topic": "sea"},
     "content": "Harbour tide tables list the times of high and low water for each day of the year."},
    {"id": "bread", "title": "Bread", "metadata": {"topic": "kitchen"},
     "content": "Knead the dough for ten minutes, let it rise, then bake the bread at 220 degrees."},
    {"id": "yeast", "title": "Yeast", "metadata": {"topic": "kitchen"},
     "content": "Yeast makes bread dough rise by turning sugar into carbon dioxide."},
    {"id": "hostile", "title": "<b>Bold</b> claims", "metadata": {"topic": "sea"},
     "content": ("<script>alert(1)</script> Some say the dragons under the sea make the <b>tides</b>."
                 ' <img src=x onerror="alert(2)">')},
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Debian's chromium, headless (Playwright's own browsers are never downloaded)."""
    executable = shutil.which("chromium")
    assert executable, "the console tests need Debian's chromium: apt-get install -y chromium"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable, args=["--no-sandbox"])
        yield browser
        browser.close()


@pytest.fixture
def notes(app_store: vecpg.Store) -> vecpg.Collection:
    collection = app_store.create_collection("notes")
    collection.upsert(DOCS)
    return collection


@pytest.fixture
def dialogs() -> list[str]:
    """Messages of any alert() the page opens (a document's script that ran would open one)."""
    return []


@pytest.fixture
def page(browser: Browser, dialogs: list[str]) -> Iterator[Page]:
    """A fresh tab (its own session storage)."""
    def dismiss(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    context = browser.new_context(viewport={"width": 1000, "height": 900})
    tab = context.new_page()
    tab.on("dialog", dismiss)
    yield tab
    context.close()


@pytest.fixture
def console(serve: Callable[..., Any], notes: vecpg.Collection, page: Page) -> Page:
    """The console of a service without keys (loopback), with a stand-in model for ask."""
    served = serve(keys=False, llm=lambda prompt: ANSWER)
    page.goto(f"{served.url}/")
    expect(page.get_by_test_id("collection")).to_have_value("notes")
    return page


def search(page: Page, query: str, *, mode: str = "hybrid", k: int = 10, filter: str = "") -> None:
    page.get_by_label("Query").fill(query)
    page.get_by_label("Mode").select_option(mode)
    page.locator("#k").fill(str(k))
    page.get_by_label("Filter (JSON)").fill(filter)
    page.get_by_role("button", name="Search").click()


def shown_hits(page: Page) -> list[dict[str, Any]]:
    """The results as the page shows them, after the search has answered."""
    expect(page.get_by_test_id("search-status")).to_contain_text("result")
    hits = []
    for item in page.get_by_test_id("hit").all():
        hits.append({
            "id": item.get_attribute("data-id"),
            "rank": item.get_by_test_id("hit-rank").text_content(),
            "title": item.get_by_test_id("hit-title").text_content(),
            "snippet": item.get_by_test_id("hit-snippet").text_content(),
            "vector": item.get_by_test_id("vector-rank").text_content() if item.get_by_test_id("vector-rank").count() else None,
            "keyword": item.get_by_test_id("keyword-rank").text_content() if item.get_by_test_id("keyword-rank").count() else None,
        })
    return hits


def test_search_shows_the_collections_hits_in_rank_order_in_every_mode(console: Page, notes: vecpg.Collection) -> None:
    query = "why do the tides rise and fall"
    for mode in ("vector", "keyword", "hybrid"):
        search(console, query, mode=mode, k=4)
        expected = notes.search(query, k=4, mode=mode)
        expect(console.get_by_test_id("search-status")).to_contain_text(f"({mode},")
        hits = shown_hits(console)
        assert [h["id"] for h in hits] == [h.id for h in expected], mode
        assert [h["rank"] for h in hits] == [f"{i}." for i in range(1, len(expected) + 1)]
    for shown, hit in zip(hits, expected):  # hybrid: each list's rank and score beside the fused one
        assert shown["title"] == hit.title
        if hit.vector_rank is None:
            assert shown["vector"] is None
        else:
            assert shown["vector"] == f"vector #{hit.vector_rank} · {hit.vector_score:.4f}"
        if hit.keyword_rank is not None:
            assert shown["keyword"] == f"keyword #{hit.keyword_rank} · {hit.keyword_score:.4f}"
    assert any(h["keyword"] for h in hits) and any(h["vector"] for h in hits)


def test_a_filter_narrows_the_results_and_bad_json_is_a_readable_error(console: Page, notes: vecpg.Collection) -> None:
    search(console, "rising dough", mode="vector", k=10)
    assert len(shown_hits(console)) == len(DOCS)
    search(console, "rising dough", mode="vector", k=10, filter='{"topic": "kitchen"}')
    expect(console.get_by_test_id("hit")).to_have_count(2)
    expected = notes.search("rising dough", k=10, mode="vector", filter={"topic": "kitchen"})
    assert [h["id"] for h in shown_hits(console)] == [h.id for h in expected] and {h.id for h in expected} == {"bread", "yeast"}

    search(console, "rising dough", filter='{"topic": kitchen}')
    problem = console.get_by_test_id("filter-error")
    expect(problem).to_be_visible()
    expect(problem).to_contain_text("not valid JSON")
    expect(console.get_by_label("Filter (JSON)")).to_have_attribute("aria-invalid", "true")

    # A filter the API refuses: its error body is shown in the alert region, the console stays.
    search(console, "rising dough", filter='{"topic": {"$nearly": "kitchen"}}')
    alert = console.get_by_role("alert").filter(has_text="$nearly")
    expect(alert).to_be_visible()
    expect(problem).to_be_hidden()
    expect(console.get_by_role("heading", name="Search")).to_be_visible()


def test_documents_markup_is_shown_as_text_never_run(console: Page, dialogs: list[str]) -> None:
    search(console, "dragons", mode="keyword", k=3)
    hits = shown_hits(console)
    assert [h["id"] for h in hits] == ["hostile"]
    assert hits[0]["title"] == "<b>Bold</b> claims"
    assert hits[0]["snippet"].startswith("<script>alert(1)</script>")
    assert hits[0]["snippet"].endswith('<img src=x onerror="alert(2)">')
    assert console.locator("#results script, #results b, #results img").count() == 0
    assert dialogs == []


def test_ask_shows_the_answer_and_its_cited_source(console: Page, notes: vecpg.Collection, tmp_path: Path) -> None:
    question = "Why do the tides rise and fall?"
    search(console, question, k=4)
    shown_hits(console)
    console.get_by_label("Question").fill(question)
    with console.expect_response(lambda response: response.url.endswith("/collections/notes/ask")) as asked:
        console.get_by_role("button", name="Ask").click()
    assert asked.value.headers["content-type"].startswith("text/event-stream")  # the answer streams in
    expect(console.get_by_test_id("ask-status")).to_contain_text("Cites 1 of")
    assert console.get_by_test_id("answer-text").text_content() == ANSWER
    sources = console.get_by_test_id("source")
    expect(sources).to_have_count(1)
    source = sources.first
    assert source.get_attribute("data-number") == "1"
    best = notes.search(question, k=5, mode="hybrid")[0]
    assert source.get_by_test_id("source-id").text_content() == best.id
    assert source.get_by_test_id("source-title").text_content() == best.title
    passage = source.get_by_test_id("source-passage").text_content() or ""
    assert passage.strip() and passage.strip(" …") in best.content
    expect(console.get_by_test_id("alert")).to_be_hidden()

    screenshot = Path(os.environ.get("VECPG_CONSOLE_SCREENSHOT") or tmp_path / "console.png")
    console.screenshot(path=str(screenshot), full_page=True)
    assert screenshot.read_bytes().startswith(b"\x89PNG")


def test_a_key_is_asked_for_kept_for_the_tab_and_binds_its_tenant(
        serve: Callable[..., Any], make_key: Callable[..., str], notes: vecpg.Collection, page: Page) -> None:
    with notes.store.tenant("acme"):
        notes.upsert([{"id": "acme-pier", "title": "Pier gauge", "content": "Our gauge at the pier records the tides."}])
    with notes.store.tenant("globex"):
        notes.upsert([{"id": "globex-pier", "title": "Pier plans", "content": "Globex's secret pier and its tides."}])
    served = serve()  # keys required
    page.goto(f"{served.url}/")
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("unauthorized: an API key is required")

    page.get_by_label("API key").fill("vp_000000000000_wrong")
    page.get_by_role("button", name="Use key").click()
    expect(alert).to_contain_text("unauthorized: the API key is not valid")

    key = make_key("acme")
    page.get_by_label("API key").fill(key)
    page.get_by_role("button", name="Use key").click()
    expect(page.get_by_test_id("collection")).to_have_value("notes")
    expect(alert).to_be_hidden()
    page.reload()  # the key stays for the tab's session
    expect(page.get_by_test_id("collection")).to_have_value("notes")
    assert page.evaluate("sessionStorage.getItem('vecpg.apiKey')") == key

    search(page, "pier tides", mode="keyword")
    ids = [hit["id"] for hit in shown_hits(page)]
    with notes.store.tenant("acme"):
        assert ids == [hit.id for hit in notes.search("pier tides", mode="keyword")]
    assert "acme-pier" in ids and "globex-pier" not in ids


def test_the_console_works_mounted_under_a_prefix(app_store: vecpg.Store, notes: vecpg.Collection, page: Page) -> None:
    outer = FastAPI()
    outer.mount("/search-api", app(app_store, keys=False))
    served = Served(outer)
    try:
        page.goto(f"{served.url}/search-api")  # redirected to /search-api/: the page's paths are relative
        expect(page.get_by_test_id("collection")).to_have_value("notes")
        search(page, "bread", mode="keyword", k=2)
        assert [hit["id"] for hit in shown_hits(page)] == [hit.id for hit in notes.search("bread", mode="keyword", k=2)]
    finally:
        served.stop()
