"""Prometheus metrics: ``vecpg.metrics.enable(registry)`` turns them on (``vecpg[metrics]``).

Off by default, and then free: every instrumented place checks one module attribute. Names
follow Prometheus' conventions, and Qdrant's where they mean the same (``collections_total``,
``collection_points``, ``rest_responses_duration_seconds``). ``vecpg serve`` serves them at
``/metrics``; ``vecpg metrics --port`` serves the database's (queue, mirror, points) for a
deployment's workers and syncs; in your own app, pass your registry to ``enable`` and
``watch(store)`` adds the store's database gauges and pool to it.
"""

from .registry import Metrics, counted, current, disable, enable, measured, rows_written, timed

__all__ = ["Metrics", "counted", "current", "disable", "enable", "measured", "rows_written", "timed"]
