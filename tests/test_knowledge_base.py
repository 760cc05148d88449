"""The knowledge-base walk-through of docs/knowledge-base.md, step by step: a CSV of articles
with a category, ingested with the category as metadata, searched with a category filter from the
shell and from Python, and evaluated on the team's own questions."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

import vecpg
from vecpg.cli import main

ARTICLES = """id,title,content,category
kb-1,Resetting your password,"Open Settings, choose Security and press Reset password; a link arrives by email.",account
kb-2,Two-factor sign-in,"Turn on two-factor authentication under Security to ask for a code at each sign-in.",account
kb-3,Refunds,"Refunds reach the original card within five working days after we approve them.",billing
kb-4,Changing your plan,"Upgrade or downgrade under Billing; the price difference is prorated to the day.",billing
kb-5,Invoices,"Every invoice is emailed as a PDF and listed under Billing, Invoices.",billing
kb-6,Exporting data,"Download all your records as CSV from Settings, Export.",data
"""
QUESTIONS = """query,relevant_ids
I forgot my password,kb-1
when will I get my money back,kb-3
where can I find my invoices,kb-5
how do I get my records out,kb-6
"""


@pytest.fixture
def shell(db_url: str, tmp_path: Path):
    (tmp_path / "articles.csv").write_text(ARTICLES)
    (tmp_path / "questions.csv").write_text(QUESTIONS)
    runner = CliRunner()

    def run(*args: str):
        result = runner.invoke(main, ["--url", db_url, *args], catch_exceptions=False)
        assert result.exit_code == 0, result.output
        return result

    return run


def test_a_knowledge_base_from_csv_to_evaluation(shell, db_url: str, tmp_path: Path, embedder) -> None:
    shell("collection", "create", "kb")
    shell("ingest", str(tmp_path / "articles.csv"), "-c", "kb", "--metadata-columns", "category", "--quiet")

    found = json.loads(shell("search", "money back for my order", "-c", "kb", "--mode", "hybrid",
                             "--filter", '{"category": "billing"}', "--json").output)
    assert found[0]["id"] == "kb-3" and {h["metadata"]["category"] for h in found} == {"billing"}
    diverse = shell("search", "account security", "-c", "kb", "-k", "2", "--mmr", "0.5").output
    assert "first stage #1" in diverse

    with vecpg.connect(db_url) as store:
        kb = store.collection("kb")
        assert kb.get("kb-1")[0].metadata == {"category": "account"}
        service = vecpg.SearchService(kb, k=3, mmr=0.7)  # hybrid first stage, then MMR
        hits = service.search("I cannot sign in", filter={"category": "account"})
        assert [h.id for h in hits][:1] in (["kb-1"], ["kb-2"]) and all(h.first_rank for h in hits)

    scores = json.loads(shell("eval", str(tmp_path / "questions.csv"), "-c", "kb", "--mmr", "0.7", "--json").output)
    assert set(scores) == {"vector", "vector+mmr", "keyword", "keyword+mmr", "hybrid", "hybrid+mmr"}
    assert scores["hybrid"]["mrr@10"] >= 0.75 and scores["vector"]["recall@100"] == 1.0
