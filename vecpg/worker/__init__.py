"""Embedding workers: the Python side of the queue that sql/idempotent/10_embedding_queue.sql keeps.

``vecpg worker`` (or :class:`Worker` in a process of your own) claims queued documents, embeds
them in batches with each collection's model and writes the vectors back, as often as text
without a vector is written, from any client. Several workers share the queue without
embedding a row twice; a failing row is retried with a backoff and never holds up the others.
"""

from .loop import Worker, WorkerStats
from .options import WorkerOptions
from .status import EmbeddingStatus, embedding_status, failures

__all__ = ["EmbeddingStatus", "Worker", "WorkerOptions", "WorkerStats", "embedding_status", "failures"]
