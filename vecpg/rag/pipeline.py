"""The RAG pipeline: retrieve through a ``SearchService``, fit the passages into the model's
token budget, build the prompt, call the model, map the answer's citations back to sources.

When nothing relevant is retrieved (no hit, or none scoring ``min_score``), the model is not
asked: the answer says so, as it would otherwise guess.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import asdict, dataclass, field
from typing import Any

from ..documents import check_text
from ..errors import InvalidArgument
from ..metrics import current as current_metrics
from ..ops import catalog
from ..ops.statement import Call, Steps, steps
from ..search.results import SearchResult
from ..search.service import SearchService
from .context import Context, Source, fit
from .llm.protocol import LLM, Message, StreamingLLM, as_llm
from .passages import Passage, check_per_document, passages_query
from .prompt import PromptTemplate, citations

NO_CONTEXT = "I found nothing relevant to this question in the collection, so I cannot answer it from its documents."
MAX_QUESTION_CHARS = 4000  # a question, not a document: longer is a mistake or an attack


@dataclass
class Answer:
    """An answer and how it came about.

    ``sources``: every passage the prompt held, numbered as in the prompt; ``cited``: those the
    answer cites, in order of first citation; ``unknown_citations``: numbers it cites that point
    to no source; ``dropped``: ids of retrieved documents left out for the token budget (and
    ``Source.truncated`` marks passages cut at a sentence end); ``found`` False when nothing
    relevant was retrieved (the model was not asked); ``timings``: seconds per stage
    (retrieve, assemble, generate).
    """

    question: str
    text: str
    sources: list[Source]
    cited: list[Source]
    unknown_citations: list[int]
    dropped: list[str]
    found: bool
    prompt: list[Message]
    timings: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready values (``vecpg ask --json``)."""
        return {"question": self.question, "answer": self.text, "found": self.found,
                "sources": [asdict(s) for s in self.sources], "cited": [s.number for s in self.cited],
                "unknown_citations": self.unknown_citations, "dropped": self.dropped, "timings": self.timings}


@dataclass
class RAG:
    """Questions answered from a collection with cited sources.

    ``search``: the retrieval (a ``SearchService``: hybrid by default, its filter, reranker,
    MMR); ``llm``: any ``vecpg.rag.llm.LLM`` or a callable from prompt text to answer text;
    ``token_budget``: tokens of the model's own tokenizer the passages may take;
    ``per_document``: in a chunked collection, how many of a document's chunks nearest to the
    question make its passages (merged where they overlap); ``min_score``:
    the first-stage score (or the reranker's, when there is one) the best hit must reach for
    the question to count as answerable; ``template``: the prompt's wording.
    """

    search: SearchService
    llm: LLM | Callable[[str], str]
    token_budget: int = 1500
    min_score: float | None = None
    max_tokens: int = 512
    per_document: int = 3
    template: PromptTemplate = field(default_factory=PromptTemplate)

    def __post_init__(self) -> None:
        self.llm = as_llm(self.llm)
        if not isinstance(self.token_budget, int) or self.token_budget < 1:
            raise InvalidArgument(f"token_budget must be a positive integer, got {self.token_budget!r}")
        if not isinstance(self.max_tokens, int) or self.max_tokens < 1:
            raise InvalidArgument(f"max_tokens must be a positive integer, got {self.max_tokens!r}")
        check_per_document(self.per_document)

    def prepare(self, question: str, *, filter: Any = None, tenant: str | None = None) -> Answer:
        """Retrieval and the prompt, without calling the model (``vecpg ask --show-prompt``):
        an Answer whose ``text`` is empty, or the no-context message when nothing was found.
        On an async collection, an awaitable (``aask`` and ``astream`` await it)."""
        question = check_question(question)
        return self.search.run(self.preparation(question, filter=filter), tenant)

    def preparation(self, question: str, *, filter: Any = None) -> Steps[Answer]:
        """``prepare`` as an operation, for any runner."""
        start = time.perf_counter()
        hits, passages = yield from self.retrieval(question, filter=filter)
        retrieved = time.perf_counter()
        scores = [h.rerank_score if h.rerank_score is not None else h.score for h in hits]
        best = max((s for s in scores if s is not None), default=None)
        found = bool(hits) and (self.min_score is None or (best is not None and best >= self.min_score))
        model: LLM = self.llm  # type: ignore[assignment]
        context = fit(hits, self.token_budget, model.count_tokens, passages) if found else Context([])
        found = found and bool(context.sources)
        prompt = self.template.messages(question, context.sources) if found else []
        timings = {"retrieve": retrieved - start, "assemble": time.perf_counter() - retrieved}
        return Answer(question, "" if found else NO_CONTEXT, context.sources, [], [], context.dropped, found,
                      prompt, timings)

    def retrieval(self, question: str, *, filter: Any = None
                  ) -> Steps[tuple[list[SearchResult], dict[str, list[Passage]]]]:
        """The hits for a question and their passages, as one operation (for any runner)."""
        hits = yield from steps(self.search.operation(question, filter=filter))
        if not hits:
            return hits, {}
        collection = self.search.collection
        # The question's vector picks a chunked document's chunks; vector and hybrid search
        # embedded it already (the query cache has it), keyword search embeds it only for chunks.
        vector = None
        if collection.model is not None and (self.search.mode != "keyword"
                                             or (yield catalog.chunking(collection.name)) is not None):
            vector = yield Call(collection.embed_query, (question,))
        passages = yield passages_query(collection.name, vector, [h.id for h in hits], self.per_document)
        return hits, passages

    def ask(self, question: str, *, filter: Any = None, tenant: str | None = None) -> Answer:
        """The answer to a question, with its sources and the time each stage took."""
        return self.complete(self.prepare(question, filter=filter, tenant=tenant))

    def stream(self, question: str, *, filter: Any = None, tenant: str | None = None) -> Iterator[str | Answer]:
        """The answer's text in pieces as the model writes them (one piece for a model that does
        not stream), then the ``Answer``."""
        return self.generate(self.prepare(question, filter=filter, tenant=tenant))

    async def aask(self, question: str, *, filter: Any = None, tenant: str | None = None) -> Answer:
        """``ask`` for asyncio, over an async collection: the model writes in a worker thread."""
        answer: Answer = await self.prepare(question, filter=filter, tenant=tenant)  # type: ignore[misc]
        return await asyncio.to_thread(self.complete, answer)

    async def astream(self, question: str, *, filter: Any = None, tenant: str | None = None
                      ) -> AsyncIterator[str | Answer]:
        """``stream`` for asyncio: each piece is written by the model in a worker thread."""
        answer: Answer = await self.prepare(question, filter=filter, tenant=tenant)  # type: ignore[misc]
        pieces = self.generate(answer)
        done = object()
        while (piece := await asyncio.to_thread(next, pieces, done)) is not done:
            yield piece  # type: ignore[misc]

    def complete(self, answer: Answer) -> Answer:
        """A prepared answer (``prepare``) written by the model. Retrieval and generation are
        separate steps so a service can hold its database transaction for the first only."""
        if not answer.found:
            return answer
        start = time.perf_counter()
        model: LLM = self.llm  # type: ignore[assignment]
        text = model.complete(answer.prompt, max_tokens=self.max_tokens)
        answer.timings["generate"] = time.perf_counter() - start
        return self._finish(answer, text)

    def generate(self, answer: Answer) -> Iterator[str | Answer]:
        """``complete`` in pieces as the model writes them, then the ``Answer``."""
        if not answer.found:
            yield answer.text
            yield answer
            return
        start = time.perf_counter()
        model = self.llm
        pieces: list[str] = []
        if isinstance(model, StreamingLLM):
            for piece in model.stream(answer.prompt, max_tokens=self.max_tokens):
                if not pieces:
                    answer.timings["first_token"] = time.perf_counter() - start
                pieces.append(piece)
                yield piece
        else:
            text = model.complete(answer.prompt, max_tokens=self.max_tokens)  # type: ignore[union-attr]
            pieces.append(text)
            yield text
        answer.timings["generate"] = time.perf_counter() - start
        yield self._finish(answer, "".join(pieces))

    @staticmethod
    def _finish(answer: Answer, text: str) -> Answer:
        metrics = current_metrics()
        if metrics is not None:
            for stage, seconds in answer.timings.items():
                metrics.rag.labels(stage).observe(seconds)
        answer.text = text.strip()
        answer.cited, answer.unknown_citations = citations(answer.text, answer.sources)
        return answer


def check_question(question: Any) -> str:
    """A question as the pipeline takes it: text, not empty, not a document."""
    question = check_text(question, "the question")
    if not question.strip():
        raise InvalidArgument("the question is empty")
    if len(question) > MAX_QUESTION_CHARS:
        raise InvalidArgument(f"the question is {len(question):,} characters long: at most {MAX_QUESTION_CHARS:,}")
    bad = next((c for c in question if (ord(c) < 32 and c not in "\n\t\r") or 0x7f <= ord(c) < 0xa0), None)
    if bad is not None:
        raise InvalidArgument(f"the question contains the control character {bad!r}")
    return question
