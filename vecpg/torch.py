"""PyTorch retrieval: ``VecpgRetriever``, a ``torch.nn.Module`` returning the k nearest documents
of a batch of queries as tensors (docs/ml-frameworks.md). Needs ``pip install 'vecpg[torch]'``;
``import vecpg`` never imports torch."""

from .integrations.torch import Retrieved, VecpgRetriever

__all__ = ["Retrieved", "VecpgRetriever"]
