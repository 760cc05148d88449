"""Reading CSV and JSON Lines files, and refusing bad ones with the line that is wrong."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from vecpg.errors import InputFileError
from vecpg.ingest import count_records, read_documents


def test_csv_with_json_metadata(tmp_path: Path) -> None:
    path = tmp_path / "docs.csv"
    path.write_text('id,title,content,metadata\n1,One,"first, with a comma","{""lang"": ""en""}"\n2,,second,\n')
    assert list(read_documents(path)) == [
        {"id": "1", "title": "One", "content": "first, with a comma", "metadata": {"lang": "en"}},
        {"id": "2", "content": "second", "metadata": {}},
    ]
    assert count_records(path) == 2


def test_gzipped_jsonl(tmp_path: Path) -> None:
    path = tmp_path / "docs.jsonl.gz"
    with gzip.open(path, "wt") as fh:
        fh.write(json.dumps({"id": 7, "content": "seven", "metadata": {"n": 7}}) + "\n\n")
    assert list(read_documents(path)) == [{"id": "7", "content": "seven", "metadata": {"n": 7}}]


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("no_content.csv", b"id,text\n1,hello\n", "no 'content' column"),
        ("latin1.csv", "id,content\n1,caf\xe9\n".encode("latin-1"), "not UTF-8"),
        ("bad.jsonl", b'{"content": "ok"}\n{"content": \n', "bad.jsonl:2: not valid JSON"),
        ("list.jsonl", b'["content"]\n', "JSON object"),
        ("empty_content.jsonl", b'{"id": "1", "content": "  "}\n', ":1: empty content"),
        ("bad_meta.csv", b"content,metadata\nhi,{oops}\n", ":2: metadata is not valid JSON"),
        ("meta_list.jsonl", b'{"content": "hi", "metadata": [1]}\n', "metadata must be a JSON object"),
        ("docs.parquet", b"PAR1", "not a Parquet file"),
        ("docs.xml", b"<doc/>", "unknown file type"),
        ("docs.parquet.gz", b"", "gunzip it first"),
        ("truncated.jsonl.gz", gzip.compress(b'{"content": "a"}\n' * 100)[:40], "ends early"),
        ("notgzip.csv.gz", b"content\nhello\n", "not a valid gzip file"),
    ],
)
def test_bad_files_name_the_problem(tmp_path: Path, name: str, data: bytes, message: str) -> None:
    path = tmp_path / name
    path.write_bytes(data)
    with pytest.raises(InputFileError, match=message):
        list(read_documents(path))


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputFileError, match="no such file"):
        list(read_documents(tmp_path / "absent.csv"))
