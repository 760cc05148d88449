"""Retrieval-augmented generation: answers with cited sources (issue 22, in progress: the
language-model protocol)."""
