"""Retrieval inside machine-learning frameworks: ``vecpg.torch`` (a ``torch.nn.Module``) and
``vecpg.keras`` (a Keras 3 layer), both over ``retrieval.py``, which turns one batch search into
padded arrays. Each framework is an optional extra, imported only by its own module."""
