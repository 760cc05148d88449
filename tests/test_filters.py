"""Metadata filters: parsed from dicts or JSON text, compiled to a parameterised predicate."""

from __future__ import annotations

import pytest
from psycopg.types.json import Jsonb

from vecpg.errors import FilterError
from vecpg.filters import compile_filter, parse_filter


def test_equality_filters_compile_to_containment() -> None:
    predicate, params = compile_filter('{"topic": "astronomy", "year": 2024}')
    assert predicate.as_string(None) == "AND metadata @> %(filter)s"
    assert isinstance(params["filter"], Jsonb)
    assert params["filter"].obj == {"topic": "astronomy", "year": 2024}


def test_empty_filters_add_no_predicate() -> None:
    for empty in (None, {}, "{}"):
        predicate, params = compile_filter(empty)
        assert predicate.as_string(None) == "" and params == {}


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("{nope", "not valid JSON"),
        ("[1, 2]", "must be a JSON object"),
        (42, "must be a JSON object"),
        ({"$or": []}, "unsupported filter key '\\$or'"),
        ({"": 1}, "non-empty strings"),
        ({"x": float("nan")}, "not valid JSON"),
    ],
)
def test_malformed_filters_are_refused(value, message: str) -> None:
    with pytest.raises(FilterError, match=message):
        parse_filter(value)


def test_hostile_values_stay_parameters() -> None:
    hostile = {"name": "x'); DROP TABLE vecpg.collection; --"}
    predicate, params = compile_filter(hostile)
    assert "DROP" not in predicate.as_string(None)
    assert params["filter"].obj == hostile
