"""Keras 3 retrieval: ``VecpgRetrievalLayer``, a layer returning the scores and stored vectors
of the k nearest documents of a batch of query embeddings (docs/ml-frameworks.md). Needs
``pip install 'vecpg[keras]'`` and, for the torch backend, ``KERAS_BACKEND=torch`` set before
keras is imported; ``import vecpg`` never imports keras."""

from .integrations.keras import VecpgRetrievalLayer, custom_objects

__all__ = ["VecpgRetrievalLayer", "custom_objects"]
