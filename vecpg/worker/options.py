"""What a worker can be told, with its defaults and bounds (the CLI reads them from here)."""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import InvalidArgument

BATCH = (1, 10_000)  # the bounds vecpg.claim_embeddings checks too
MAX_ATTEMPTS = (1, 100)


@dataclass(frozen=True)
class WorkerOptions:
    """``batch``: rows claimed and embedded at a time. ``max_attempts``: failed tries before a
    row moves to the failed list. ``poll``: seconds between looks at the queue when no NOTIFY
    comes (rows whose retry time has come wake nobody). ``collections``: only these."""

    batch: int = 64
    max_attempts: int = 5
    poll: float = 5.0
    collections: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not BATCH[0] <= self.batch <= BATCH[1]:
            raise InvalidArgument(f"batch must be between {BATCH[0]} and {BATCH[1]}, got {self.batch}")
        if not MAX_ATTEMPTS[0] <= self.max_attempts <= MAX_ATTEMPTS[1]:
            raise InvalidArgument(f"max_attempts must be between {MAX_ATTEMPTS[0]} and {MAX_ATTEMPTS[1]}, "
                                  f"got {self.max_attempts}")
        if not self.poll > 0:
            raise InvalidArgument(f"poll must be a positive number of seconds, got {self.poll}")
