"""A retriever as a Keras 3 layer: a batch of query embeddings in, the scores and stored vectors
of each query's k nearest documents out, from one batch search (one round trip per batch).

Written for Keras 3 on the torch backend (``KERAS_BACKEND=torch``: TensorFlow stays optional);
the layer calls the database, so it runs eagerly (``supports_jit = False``; on the TensorFlow
or JAX backends, compile with ``run_eagerly=True``). Retrieval is a lookup, not a differentiable
function: a model learns through it by recomputing the scores from its query embedding and the
returned vectors (docs/ml-frameworks.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ..errors import InvalidArgument, MissingDependency
from .retrieval import Padded, Retrieval

try:
    import keras
    from keras import ops
except ModuleNotFoundError as exc:
    if exc.name in (None, "keras") or exc.name.startswith("keras."):
        raise MissingDependency("vecpg.keras needs Keras 3: pip install 'vecpg[keras]'") from exc
    backend = exc.name.split(".")[0]  # keras is there, its backend (tensorflow unless KERAS_BACKEND says) is not
    raise MissingDependency(
        f"Keras could not load its backend ({backend}): set KERAS_BACKEND=torch before keras is imported "
        f"(pip install 'vecpg[keras]' installs torch), or install {backend}") from exc
except ImportError as exc:
    raise MissingDependency(f"vecpg.keras needs Keras 3: pip install 'vecpg[keras]' ({exc})") from exc

if TYPE_CHECKING:
    from ..collection import Collection
    from ..search.options import Options
    from ..search.results import SearchResult
    from ..store import Store

# The key of the store in the custom objects a model is loaded with (custom_objects below).
STORE_KEY = "vecpg>Store"
_NEEDS_STORE = ("a saved model gets it back with keras.saving.load_model(path, "
                "custom_objects=vecpg.keras.custom_objects(store))")


@keras.saving.register_keras_serializable(package="vecpg")
class VecpgRetrievalLayer(keras.layers.Layer):
    """The k nearest documents of each query embedding in a batch, as tensors.

    Called on a ``[B, d]`` tensor of query embeddings, it returns a dict: ``"scores"``
    ``[B, k]`` (higher is better: the similarity, -distance for l2; -inf where a query found
    fewer than k), ``"mask"`` bool ``[B, k]`` (True where there is a hit) and, with
    ``return_vectors=True``, ``"vectors"`` ``[B, k, d]`` (the stored embeddings, zeros where
    there is no hit). Scores and vectors are in the layer's compute dtype (float32 by default).
    ``mode``, ``filter``, ``options`` and ``tenant`` are those of ``Collection.search``, checked
    when the layer is made; keyword and hybrid modes need text queries, which Keras tensors
    cannot hold on the torch backend, so this layer searches by vector only.

    Ids are strings, and the torch backend has no string tensors: the ids and the hits
    themselves (``SearchResult``: content, metadata) of the latest call are in ``last_ids`` and
    ``last_results``, one list per query.

    Nothing flows back through the layer (its outputs are constants to autodiff): recompute the
    scores from the query embedding, ``ops.einsum("bd,bkd->bk", q, vectors)``, to train.

    Saving: ``get_config`` holds the collection's name and the search settings, never a
    connection or a URL. A loaded model needs the store back:
    ``keras.saving.load_model(path, custom_objects=vecpg.keras.custom_objects(store))``.
    """

    def __init__(self, collection: Collection, k: int = 10, *, mode: str = "vector", filter: Any = None,
                 options: Options | Mapping[str, Any] | None = None, return_vectors: bool = False,
                 tenant: str | None = None, **kwargs: Any) -> None:
        if isinstance(collection, str):
            raise InvalidArgument(
                f"VecpgRetrievalLayer needs a vecpg Collection, got the name {collection!r}: {_NEEDS_STORE}")
        if mode != "vector":
            raise InvalidArgument(f"VecpgRetrievalLayer searches by vector (Keras tensors hold no texts), got "
                                  f"mode {mode!r}: use vecpg.torch.VecpgRetriever or Collection.search_many")
        super().__init__(**kwargs)
        self._retrieval = Retrieval.checked(collection, k, mode, filter, options, return_vectors, tenant,
                                            "VecpgRetrievalLayer")
        self._last: Padded | None = None
        self.supports_jit = False  # a database call is no XLA or torch.compile op

    @property
    def collection(self) -> Collection:
        return self._retrieval.collection

    @property
    def k(self) -> int:
        return self._retrieval.k

    @property
    def last_ids(self) -> list[list[str]]:
        """The ids of the latest call's hits, one list per query (empty before any call)."""
        return self._last.ids if self._last is not None else []

    @property
    def last_results(self) -> list[list[SearchResult]]:
        """The latest call's hits as ``SearchResult``s, one list per query."""
        return self._last.results if self._last is not None else []

    def build(self, input_shape: Any) -> None:
        self._check_shape(input_shape)
        super().build(input_shape)

    def call(self, inputs: Any) -> dict[str, Any]:
        found = self._retrieval(ops.convert_to_numpy(ops.stop_gradient(inputs)))
        self._last = found
        out = {"scores": ops.convert_to_tensor(found.scores, dtype=self.compute_dtype),
               "mask": ops.convert_to_tensor(found.mask, dtype="bool")}
        if found.vectors is not None:
            out["vectors"] = ops.convert_to_tensor(found.vectors, dtype=self.compute_dtype)
        return out

    def compute_output_shape(self, input_shape: Any) -> dict[str, tuple[int | None, ...]]:
        batch = self._check_shape(input_shape)
        shapes: dict[str, tuple[int | None, ...]] = {"scores": (batch, self.k), "mask": (batch, self.k)}
        if self._retrieval.vectors:
            shapes["vectors"] = (batch, self.k, self._retrieval.dimension)
        return shapes

    def compute_output_spec(self, inputs: Any) -> dict[str, keras.KerasTensor]:
        shapes = self.compute_output_shape(inputs.shape)
        return {name: keras.KerasTensor(shape, dtype="bool" if name == "mask" else self.compute_dtype)
                for name, shape in shapes.items()}

    def _check_shape(self, shape: Any) -> int | None:
        shape = tuple(shape)
        if len(shape) != 2 or shape[1] not in (None, self._retrieval.dimension):
            raise InvalidArgument(f"VecpgRetrievalLayer takes [batch, {self._retrieval.dimension}] query embeddings "
                                  f"(collection {self.collection.name!r}), got shape {shape}")
        return shape[0]

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> VecpgRetrievalLayer:
        """The layer of a saved model, its collection found by name in the store given to
        ``load_model`` through ``custom_objects(store)``."""
        config = dict(config)
        name = config.pop("collection")
        store = keras.saving.get_registered_object(STORE_KEY)
        if store is None:
            raise InvalidArgument(f"the retrieval layer {config.get('name')!r} needs its collection {name!r}: "
                                  f"{_NEEDS_STORE}")
        return cls(store.collection(name), **config)

    def get_config(self) -> dict[str, Any]:
        r = self._retrieval
        return {**super().get_config(), "collection": r.collection.name, "k": r.k, "mode": r.mode,
                "filter": r.filter, "options": r.options.given() or None, "return_vectors": r.vectors,
                "tenant": r.tenant}


def custom_objects(store: Store) -> dict[str, Any]:
    """What ``keras.saving.load_model(path, custom_objects=...)`` (or
    ``keras.saving.custom_object_scope``) needs to load a model with retrieval layers: each
    layer finds its collection, by the name saved, in ``store``. Merge it with your own custom
    objects: ``{**vecpg.keras.custom_objects(store), **mine}``."""
    return {STORE_KEY: store}
