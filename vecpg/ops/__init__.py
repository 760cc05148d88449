"""Operations as data, and the runner that executes them: the seam between what vecpg asks of
PostgreSQL and how it talks to it (docs/design.md).

``statement`` says what an operation is (a ``Statement``, or a generator of them) and maps rows
to results; ``runner`` executes operations on the store's pooled connections; ``session`` keeps
pgvector's search settings of each pooled connection. Operations: ``catalog`` (collections and
their settings) and ``documents`` (get, count, delete, upsert) here; the vector index's in
``index/operations.py``, the searches in ``search/``. ``bulk`` is the COPY engine of loads,
which streams rows and stays on a synchronous connection.
"""
