"""Search options per mode: each option's name, type, default and bounds, written once.

The SQL functions (``vecpg.apply_search_options``, ``vecpg.keyword_search``,
``vecpg.hybrid_search``) check the same bounds; tests/test_search_options.py holds the two
against each other on a real database. Python checks first so that a bad option fails before a
model runs or hundreds of evaluation queries start, and so that the keyword-index fast path,
which calls the collection's search function directly, needs no second opinion.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any, ClassVar

from ..errors import InvalidArgument

MODES = ("vector", "keyword", "hybrid")
SCANS = ("off", "relaxed_order", "strict_order")
INT32_MAX = 2**31 - 1
# The most candidates a first stage fetches for a second (fusion, MMR), as the SQL functions allow.
MAX_CANDIDATES = 1000


@dataclass(frozen=True)
class Spec:
    """One option: its type, its default when not given, its bounds (``above`` is exclusive)."""

    kind: type
    default: Any
    help: str  # for --help: lower case, no full stop
    lo: float | None = None
    hi: float | None = None
    above: float | None = None
    choices: tuple[str, ...] = ()

    def check(self, name: str, value: Any) -> None:
        """InvalidArgument naming the option when ``value`` is not allowed."""
        if value is None:
            return
        if self.choices:
            if value not in self.choices:
                raise InvalidArgument(f"{name} must be one of {', '.join(self.choices)}, got {value!r}")
        elif self.kind is bool:
            if not isinstance(value, bool):
                raise InvalidArgument(f"{name} must be true or false, got {value!r}")
        elif self.kind is int:
            if isinstance(value, bool) or not isinstance(value, int) or not self.lo <= value <= self.hi:  # type: ignore[operator]
                raise InvalidArgument(f"{name} must be an integer between {self.lo} and {self.hi}, got {value!r}")
        else:
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise InvalidArgument(f"{name} must be a number, got {value!r}")
            if not math.isfinite(value):
                raise InvalidArgument(f"{name} must be a finite number, got {value}")
            if (self.lo is not None and value < self.lo) or (self.hi is not None and value > self.hi) \
                    or (self.above is not None and value <= self.above):
                raise InvalidArgument(f"{name} must be {self.range_text()}, got {value!r}")

    def range_text(self) -> str:
        """The allowed values in words, e.g. "between 0 and 1" or "> 0"."""
        if self.choices:
            return "one of " + ", ".join(self.choices)
        if self.lo is not None and self.hi is not None:
            return f"between {self.lo:g} and {self.hi:g}"
        if self.above is not None:
            return f"> {self.above:g}"
        return f">= {self.lo:g}"


def option(kind: type, default: Any, help: str, **bounds: Any) -> Any:
    """A dataclass field of an options class: None (not given) unless set."""
    return field(default=None, metadata={"spec": Spec(kind, default, help, **bounds)})


Layout = tuple[tuple[tuple[str, Spec], ...], tuple[tuple[str, type], ...]]
_LAYOUTS: dict[type, Layout] = {}
_SPECS: dict[type, dict[str, Spec]] = {}


def _layout(cls: type) -> Layout:
    """An options class's own options and its nested options classes (read once: searches are hot)."""
    layout = _LAYOUTS.get(cls)
    if layout is None:
        own: list[tuple[str, Spec]] = []
        nested: list[tuple[str, type]] = []
        for f in fields(cls):
            factory = f.default_factory
            if isinstance(factory, type):
                nested.append((f.name, factory))
            elif "spec" in f.metadata:
                own.append((f.name, f.metadata["spec"]))
        layout = _LAYOUTS[cls] = (tuple(own), tuple(nested))
    return layout


def _specs(cls: type) -> dict[str, Spec]:
    specs = _SPECS.get(cls)
    if specs is None:
        own, nested = _layout(cls)
        specs = dict(own)
        for _, inner in nested:
            specs.update(_specs(inner))
        _SPECS[cls] = specs
    return specs


def spec_of(cls: type, name: str) -> Spec:
    """The Spec of one option of an options class (nested ones included); KeyError if none."""
    return _specs(cls)[name]


@dataclass(frozen=True)
class Options:
    """Common behaviour of the options classes: checked when made, flattened for SQL."""

    mode: ClassVar[str]

    def __post_init__(self) -> None:
        for name, spec in _layout(type(self))[0]:
            spec.check(name, getattr(self, name))

    @classmethod
    def names(cls) -> tuple[str, ...]:
        """Every option this mode takes, as flat keyword names."""
        return tuple(_specs(cls))

    def given(self) -> dict[str, Any]:
        """The options set, flat, as the SQL functions take them (jsonb); a new dict each time."""
        flat = self.__dict__.get("_given")
        if flat is None:  # options are frozen: flattened once per object (searches reuse them)
            own, nested = _layout(type(self))
            flat = {name: getattr(self, name) for name, _ in own if getattr(self, name) is not None}
            for name, _ in nested:
                flat.update(getattr(self, name).given())
            object.__setattr__(self, "_given", flat)
        return dict(flat)

    def value(self, name: str) -> Any:
        """The option as given, else its default."""
        value = getattr(self, name)
        return spec_of(type(self), name).default if value is None else value

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any]) -> Options:
        """Options from flat keywords (``None`` means not given); unknown names are InvalidArgument."""
        specs = _specs(cls)
        unknown = sorted(name for name in values if name not in specs)
        if unknown:
            raise InvalidArgument(f"unknown {cls.mode} search option(s) {', '.join(map(repr, unknown))}: "
                                  f"{cls.mode} search takes {', '.join(specs)}")
        own, nested = _layout(cls)
        kwargs: dict[str, Any] = {name: values[name] for name, _ in own if name in values}
        for name, inner in nested:
            kwargs[name] = inner.from_mapping({n: v for n, v in values.items() if n in _specs(inner)})  # type: ignore[attr-defined]
        return cls(**kwargs)


@dataclass(frozen=True)
class VectorOptions(Options):
    """pgvector's per-query settings, for one search only (vecpg/ops/session.py)."""

    mode: ClassVar[str] = "vector"
    ef_search: int | None = option(int, 40, "HNSW candidate list size for this query", lo=1, hi=1000)
    probes: int | None = option(int, 1, "IVFFlat lists to visit for this query", lo=1, hi=32768)
    iterative_scan: str | None = option(str, "off", "iterative index scan (pgvector 0.8)", choices=SCANS)
    max_scan_tuples: int | None = option(int, 20000, "most tuples an iterative HNSW scan visits", lo=1, hi=INT32_MAX)
    rerank: int | None = option(int, 4, "binary-quantized index: candidates per result re-ranked exactly",
                                lo=1, hi=100)

    # The pgvector setting behind each numeric option (rerank shapes the statement instead).
    SETTINGS: ClassVar[dict[str, str]] = {
        "ef_search": "hnsw.ef_search", "probes": "ivfflat.probes", "max_scan_tuples": "hnsw.max_scan_tuples",
    }


@dataclass(frozen=True)
class KeywordOptions(Options):
    """BM25 ranking: ``k1`` and ``b``, or ``ranking="ts_rank_cd"``; how many documents it scores."""

    mode: ClassVar[str] = "keyword"
    k1: float | None = option(float, 0.9, "BM25 term-frequency saturation", lo=0)
    b: float | None = option(float, 0.4, "BM25 length normalisation", lo=0, hi=1)
    ranking: str | None = option(str, "bm25", "keyword ranking", choices=("bm25", "ts_rank_cd"))
    max_candidates: int | None = option(int, 500, "documents holding the rarest query terms that BM25 scores",
                                        lo=1, hi=INT32_MAX)


@dataclass(frozen=True)
class HybridOptions(Options):
    """How the vector and keyword lists are made and fused; the lists take their own options."""

    mode: ClassVar[str] = "hybrid"
    method: str | None = option(str, "adaptive", "how the two lists are fused",
                                choices=("adaptive", "rrf", "convex"))
    candidates: int | None = option(int, None, "rows each list contributes (default 4*k, at most 1000)",
                                    lo=1, hi=MAX_CANDIDATES)
    rrf_k: float | None = option(float, 60, "RRF: the constant added to each rank", above=0)
    vector_weight: float | None = option(float, 1, "weight of the vector list, 0.7 in convex fusion", lo=0)
    keyword_weight: float | None = option(float, 1, "weight of the keyword list, 0.3 in convex fusion", lo=0)
    max_postings: int | None = option(int, 800, "keyword index: postings read, shared among the terms",
                                      lo=1, hi=1000000)
    keyword_index: bool | None = option(bool, True, "use the keyword index when there is one")
    vector: VectorOptions = field(default_factory=VectorOptions)
    keyword: KeywordOptions = field(default_factory=KeywordOptions)

    CONVEX_WEIGHTS: ClassVar[tuple[float, float]] = (0.7, 0.3)

    def candidates_for(self, k: int) -> int:
        """Each list's length for a search of k: at least k."""
        return candidates_for(self.candidates, k, 4 * k)

    def weights(self) -> tuple[float, float]:
        """The vector and keyword lists' weights; convex fusion has its own defaults."""
        vector, keyword = self.CONVEX_WEIGHTS if self.value("method") == "convex" else (1.0, 1.0)
        return (float(vector if self.vector_weight is None else self.vector_weight),
                float(keyword if self.keyword_weight is None else self.keyword_weight))


@dataclass(frozen=True)
class MMROptions(Options):
    """Maximal marginal relevance over a first stage's candidates (vecpg/search/mmr.py): ``mmr``
    is lambda, relevance against diversity (LangChain's lambda_mult), ``candidates`` its fetch_k."""

    mode: ClassVar[str] = "mmr"
    mmr: float | None = option(float, 0.5, "MMR lambda: 1 ranks by relevance only, 0 by diversity", lo=0, hi=1)
    candidates: int | None = option(int, None, "candidates MMR picks from (default 20 or 4*k, at most 1000)",
                                    lo=1, hi=MAX_CANDIDATES)

    DEFAULT_CANDIDATES: ClassVar[int] = 20

    def candidates_for(self, k: int) -> int:
        """How many candidates a search of k picks from: at least k."""
        return candidates_for(self.candidates, k, max(self.DEFAULT_CANDIDATES, 4 * k))


def candidates_for(given: int | None, k: int, default: int) -> int:
    """A first stage's length for a second stage keeping k: ``default`` (at most MAX_CANDIDATES)
    unless given, and never fewer than k (checked by Spec for the rest)."""
    if given is None:
        return min(default, MAX_CANDIDATES)
    if given < k:
        raise InvalidArgument(f"candidates must be an integer between {k} and {MAX_CANDIDATES}, got {given!r}")
    return given


OPTIONS: dict[str, type[Options]] = {"vector": VectorOptions, "keyword": KeywordOptions, "hybrid": HybridOptions}


_DEFAULTS: dict[type, Options] = {}


def _default(cls: type[Options]) -> Options:
    if cls not in _DEFAULTS:
        _DEFAULTS[cls] = cls()
    return _DEFAULTS[cls]


def options_for(mode: str, options: Options | Mapping[str, Any] | None = None, **tuning: Any) -> Any:
    """The options of one mode from an options object or mapping and keywords (``None`` = not given)."""
    if mode not in MODES:
        raise InvalidArgument(f"mode must be one of {', '.join(MODES)}, got {mode!r}")
    cls = OPTIONS[mode]
    if not any(v is not None for v in tuning.values()):
        if options is None:
            return _default(cls)
        if isinstance(options, cls):
            return options
    if options is None:
        # Keywords alone (search(q, ef_search=64)): the same few sets come again and again, and
        # options are frozen, so each is made and checked once.
        # The type is in the key: True == 1 == 1.0 as keys, but only 1 is a valid ef_search.
        key = (mode, *sorted((name, type(value).__name__, value) for name, value in tuning.items() if value is not None))
        try:
            return _from_keywords(key)
        except TypeError:  # a value that cannot be a key (a list): no cache
            pass
    if options is not None and not isinstance(options, (Options, Mapping)):
        raise InvalidArgument(f"options must be search options or a mapping, got {type(options).__name__}")
    base = options.given() if isinstance(options, Options) else dict(options or {})
    base.update({name: value for name, value in tuning.items() if value is not None})
    return cls.from_mapping(base)


@functools.lru_cache(maxsize=256)
def _from_keywords(key: tuple[Any, ...]) -> Options:
    mode, *items = key
    return OPTIONS[mode].from_mapping({name: value for name, _, value in items})
