"""The context of an answer: retrieved documents as numbered passages that fit a token budget.

Documents are taken in rank order, each as its content or, in a chunked collection, as its
chunks nearest to the question merged into passages (``passages``). What does not fit whole is
shortened and marked ``truncated``: a document's passages are kept best first while they fit,
else the best one is cut at the last sentence end that fits (never mid-sentence); a document of
which not even a sentence fits is left out and reported in ``Context.dropped``. Tokens are
counted with the generator's own tokenizer (``LLM.count_tokens``), so the budget is the
model's, not an estimate.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from ..search.results import SearchResult
from .passages import Passage, joined

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


def fit(hits: Sequence[SearchResult], budget: int, count: Callable[[str], int],
        passages: Mapping[str, Sequence[Passage]] | None = None) -> Context:
    """The hits as numbered passages within ``budget`` tokens, in rank order. ``passages``: each
    document's pieces by id (``passages_query``); a document without them is its highlight
    (the chunk that ranked it) or its content."""
    sources: list[Source] = []
    dropped: list[str] = []
    used = 0
    for hit in hits:
        pieces = (passages or {}).get(hit.id) or [Passage(1, hit.highlight or hit.content)]
        text, truncated = shorten(pieces, budget - used, count)
        if not text:
            dropped.append(hit.id)
            continue
        sources.append(Source(len(sources) + 1, hit.id, hit.title, hit.score, text, truncated))
        used += count(text)
    return Context(sources, dropped, used)


def shorten(pieces: Sequence[Passage], room: int, count: Callable[[str], int]) -> tuple[str, bool]:
    """A document's text within ``room`` tokens and whether anything was left out: its passages
    best first while they fit, else the best one's sentences that fit ("" if none does)."""
    best_first = sorted(pieces, key=lambda p: (p.relevance, p.number))
    kept: list[Passage] = []
    text = ""
    for piece in best_first:
        trial = joined([*kept, piece])
        if count(trial) <= room:
            kept.append(piece)
            text = trial
    if kept:
        return text, len(kept) < len(pieces)
    cut = ""
    for sentence in sentences(best_first[0].text):
        if count(cut + sentence) > room:
            break
        cut += sentence
    return cut.rstrip(), True
