"""The context of an answer: retrieved documents as numbered passages that fit a token budget.

Passages are taken in rank order. One that does not fit whole is cut at the last sentence end
that fits (never mid-sentence) and marked ``truncated``; one of which not even a sentence fits is
left out and reported in ``Context.dropped``. Tokens are counted with the generator's own
tokenizer (``LLM.count_tokens``), so the budget is the model's, not an estimate.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from ..search.results import SearchResult

# A sentence ends at . ! ? (with closing quotes or brackets) followed by white space.
_SENTENCE_END = re.compile(r"(?<=[.!?])[\"')\]]*\s+")


@dataclass(frozen=True, slots=True)
class Source:
    """A passage of the context, as numbered in the prompt (``[number]`` in the answer)."""

    number: int
    id: str
    title: str | None
    score: float | None
    passage: str
    truncated: bool = False


@dataclass(frozen=True)
class Context:
    """The numbered passages, the documents left out for the budget, and the tokens used."""

    sources: list[Source]
    dropped: list[str] = field(default_factory=list)
    tokens: int = 0


def sentences(text: str) -> list[str]:
    """The text's sentences, each with the white space that follows it (they join back to it)."""
    parts, start = [], 0
    for match in _SENTENCE_END.finditer(text):
        parts.append(text[start:match.end()])
        start = match.end()
    if start < len(text):
        parts.append(text[start:])
    return parts


def fit(hits: Sequence[SearchResult], budget: int, count: Callable[[str], int]) -> Context:
    """The hits as numbered passages within ``budget`` tokens, in rank order."""
    sources: list[Source] = []
    dropped: list[str] = []
    used = 0
    for hit in hits:
        text = hit.highlight or hit.content
        room = budget - used
        tokens = count(text)
        truncated = False
        if tokens > room:
            kept = ""
            for sentence in sentences(text):
                if count(kept + sentence) > room:
                    break
                kept += sentence
            text, truncated = kept.rstrip(), True
            tokens = count(text) if text else 0
        if not text:
            dropped.append(hit.id)
            continue
        sources.append(Source(len(sources) + 1, hit.id, hit.title, hit.score, text, truncated))
        used += tokens
    return Context(sources, dropped, used)
