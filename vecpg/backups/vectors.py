"""Vectors in JSONL: float32 values written as the shortest decimal that reads back as the same
float32, and read back exactly.

pgvector's own text output (``embedding::text``) is that decimal already (Ryu's shortest
representation, computed by the server), and a JSON array as it stands: an export copies it into
each record. Python reads JSON numbers as doubles; rounding a double to float32 gives the float32
nearest the decimal, except when the double falls exactly halfway between two float32 values
while the decimal did not. Shortest decimals never do that as far as we know, but a file written
by hand may: those values are settled from the decimal itself.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from decimal import Decimal
from fractions import Fraction

import numpy as np


def exact_float32(values: Sequence[float], decimals: Callable[[], Sequence[Decimal]]) -> np.ndarray:
    """``values`` (doubles read from JSON) as the float32 values nearest their decimals;
    ``decimals()`` gives the decimals themselves, asked for only when a double is a tie."""
    doubles = np.asarray(values, dtype=np.float64)
    with np.errstate(over="ignore"):
        rounded = doubles.astype(np.float32)
    back = rounded.astype(np.float64)
    toward = np.where(doubles > back, np.inf, -np.inf).astype(np.float32)
    neighbour = np.nextafter(rounded, toward).astype(np.float64)
    ties = (doubles != back) & (doubles == (back + neighbour) / 2)
    if ties.any():
        exact = decimals()
        for i in np.flatnonzero(ties):
            below, above = sorted((back[i], neighbour[i]))
            midpoint = (Fraction(below) + Fraction(above)) / 2
            value = Fraction(exact[int(i)])
            if value != midpoint:  # an exact tie stays with round-half-even, as the cast did
                rounded[i] = np.float32(above if value > midpoint else below)
    return rounded


def decimals_of(record: str | bytes, key: str) -> list[Decimal]:
    """The array of numbers under ``key`` in a JSON object, read as decimals, digit for digit."""
    return json.loads(record, parse_float=Decimal, parse_int=Decimal)[key]  # type: ignore[no-any-return]
