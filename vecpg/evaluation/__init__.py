"""Search quality: datasets and judgement files, metrics, and the runs ``vecpg eval`` makes."""

from .datasets import Dataset, corpus_documents, ensure_loaded, load_dataset, load_judgements
from .metrics import mrr_at, ndcg_at, recall_at
from .runs import LATENCY_BLOCK, checked_options, evaluate

__all__ = ["LATENCY_BLOCK", "Dataset", "checked_options", "corpus_documents", "ensure_loaded", "evaluate",
           "load_dataset", "load_judgements", "mrr_at", "ndcg_at", "recall_at"]
