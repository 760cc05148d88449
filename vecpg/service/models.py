"""The bodies ``vecpg serve`` takes, as pydantic models: validation, and the OpenAPI schema
with examples. Bounds that can change per deployment are in ``Limits``, not here."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Mode = Literal["vector", "keyword", "hybrid"]
_STRICT = ConfigDict(extra="forbid")  # a misspelt field is an error, not silently ignored


class CollectionSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"model": "sentence-transformers/all-MiniLM-L6-v2"}, {"dimension": 768, "distance": "cosine"}]})
    dimension: int | None = Field(None, ge=1, le=16000, description="Without it: the model's dimension.")
    distance: Literal["cosine", "l2", "ip"] = "cosine"
    model: str | None = Field(None, max_length=200, description="The model that embeds texts (none: vectors given).")
    storage: Literal["vector", "halfvec"] = "vector"


class DocumentIn(BaseModel):
    model_config = _STRICT
    id: str | int | None = Field(None, description="Generated when missing.")
    content: str = ""
    title: str | None = None
    metadata: dict[str, Any] = Field(default_factory=dict)
    embedding: list[float] | None = Field(None, description="Without it the collection's model embeds the text.")


class UpsertRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"documents": [
        {"id": "kb-1", "title": "Resetting a password", "content": "Open Settings, then Security.",
         "metadata": {"category": "account"}}]}]})
    documents: list[DocumentIn] = Field(min_length=1)


class DeleteRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"ids": ["kb-1", "kb-2"]}, {"filter": {"category": "obsolete"}}]})
    ids: list[str | int] | None = None
    filter: dict[str, Any] | None = None


class SearchSettings(BaseModel):
    model_config = _STRICT
    k: int = Field(10, ge=1, description="Results per query (at most the service's max_k).")
    mode: Mode = "hybrid"
    filter: dict[str, Any] | None = Field(None, description="vecpg's filter language (docs/filters.md).")
    reranker: str | None = Field(None, description="One of the rerankers the service was started with.")
    mmr: float | None = Field(None, ge=0, le=1, description="λ of maximal marginal relevance (1 = relevance only).")
    options: dict[str, Any] | None = Field(None, description="Search options such as ef_search (docs/collections-and-search.md).")


class SearchRequest(SearchSettings):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"query": "how do I reset my password?", "k": 5, "mode": "hybrid", "filter": {"category": "account"}},
        {"query": [0.12, -0.03, 0.88], "k": 10, "mode": "vector"}]})
    query: str | list[float] = Field(description="A text, or a vector of the collection's dimension.")


class BatchSearchRequest(SearchSettings):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"queries": ["reset password", "refund policy"], "k": 3}]})
    queries: list[str | list[float]] = Field(min_length=1)


class AskRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"question": "How do I reset my password?", "k": 5, "stream": True}]})
    question: str
    k: int = Field(5, ge=1)
    mode: Mode = "hybrid"
    filter: dict[str, Any] | None = None
    reranker: str | None = None
    token_budget: int = Field(1500, ge=1, le=100_000)
    max_tokens: int = Field(512, ge=1, le=8192)
    stream: bool = Field(False, description="Server-sent events: `token` events, then one `answer` event.")
