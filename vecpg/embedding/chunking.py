"""Overlapping chunks of a text, counted in the model's own tokens.

A chunk is a span of the text the model sees (``vecpg.embedding_text``): ``chunk_tokens``
word pieces, the next one starting ``chunk_tokens - chunk_overlap`` pieces later, cut at the
character offsets the tokenizer reports, so every chunk is a substring of the text.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from ..errors import InvalidArgument
from .models import go_offline, local_model_dir, max_seq_length

# Special tokens the model adds around every input ([CLS] and [SEP] for BERT-like models).
SPECIAL_TOKENS = 2


@dataclass(frozen=True)
class Chunk:
    """Characters ``start`` to ``end`` of the text, and those characters."""

    start: int
    end: int
    text: str


@functools.cache
def _tokenizer(model: str) -> Any:
    go_offline()
    from transformers import AutoTokenizer
    from transformers.utils import logging as transformers_logging

    # Long texts are the point here: no warning that they exceed the model's window.
    transformers_logging.set_verbosity_error()
    return AutoTokenizer.from_pretrained(str(local_model_dir(model)))


@functools.cache
def model_window(model: str) -> int:
    """Tokens the model reads of one input, special tokens included (256 for all-MiniLM-L6-v2)."""
    return max_seq_length(local_model_dir(model), _tokenizer(model).model_max_length)


def text_tokens(model: str) -> int:
    """Tokens of text the model reads of one input: its window less the special tokens."""
    return model_window(model) - SPECIAL_TOKENS


def check_chunking(model: str, chunk_tokens: int) -> None:
    """A chunk must fit the model's window, or its end would be cut off as before."""
    room = text_tokens(model)
    if chunk_tokens > room:
        raise InvalidArgument(f"chunks of {chunk_tokens} tokens do not fit {model}'s window: at most {room}")


def token_count(model: str, text: str) -> int:
    return len(_tokenizer(model)(text, add_special_tokens=False, truncation=False)["input_ids"])


def chunks(model: str, text: str, chunk_tokens: int, chunk_overlap: int) -> list[Chunk]:
    """The chunks of ``text``; none when it fits in one (the document's own vector covers it)."""
    offsets = _tokenizer(model)(text, add_special_tokens=False, truncation=False,
                                return_offsets_mapping=True)["offset_mapping"]
    if len(offsets) <= chunk_tokens:
        return []
    step = chunk_tokens - chunk_overlap
    out = []
    for first in range(0, len(offsets), step):
        last = min(first + chunk_tokens, len(offsets)) - 1
        start, end = offsets[first][0], offsets[last][1]
        out.append(Chunk(start, end, text[start:end]))
        if last == len(offsets) - 1:
            break
    return out


def over_window(model: str, texts: list[str]) -> int:
    """How many of ``texts`` are longer than the model reads: embedded, their end is cut off."""
    room = text_tokens(model)
    return sum(1 for text in texts if token_count(model, text) > room)
