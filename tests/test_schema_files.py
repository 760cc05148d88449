"""The rules of sql/ (sql/README.md): frozen releases, one definition per function, pinned paths."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from conftest import INLINED

from vecpg.db import migrate

FUNCTION = re.compile(r"CREATE\s+(?:OR\s+REPLACE\s+)?FUNCTION\s+(vecpg\.\w+)\s*\(", re.IGNORECASE)
# Files 001-009 were written before the split and define functions too; later ones may not.
LAST_MIXED_FILE = 9


def _frozen(repo_root: Path) -> dict[str, str]:
    lines = (repo_root / "sql" / "frozen.txt").read_text().splitlines()
    return {name: digest for digest, name in (line.split() for line in lines if line and not line.startswith("#"))}


def test_released_files_are_unchanged(repo_root: Path) -> None:
    frozen = _frozen(repo_root)
    assert len(frozen) >= 16
    for name, digest in frozen.items():
        actual = hashlib.sha256((repo_root / "sql" / name).read_bytes()).hexdigest()
        assert actual == digest, f"sql/{name} changed after release: write a new incremental file instead"


def test_every_revision_below_head_has_a_frozen_snapshot(repo_root: Path) -> None:
    revisions = sorted(p.name[:4] for p in (repo_root / "migrations" / "versions").glob("[0-9][0-9][0-9][0-9]_*.py"))
    assert revisions[-1] == migrate.head()
    frozen = _frozen(repo_root)
    for revision in revisions[:-1]:
        assert f"snapshots/{revision}.sql" in frozen, f"freeze the layer of {revision}: python -m vecpg.schema.freeze"


def test_every_incremental_file_has_a_down_file(repo_root: Path) -> None:
    incremental = repo_root / "sql" / "incremental"
    files = sorted(incremental.glob("[0-9][0-9][0-9]_*.sql"))
    assert files
    for path in files:
        assert (incremental / "down" / path.name).exists(), f"sql/incremental/down/{path.name} is missing"
        if int(path.name[:3]) > LAST_MIXED_FILE:
            assert not FUNCTION.search(path.read_text()), f"{path.name} defines a function: it belongs in idempotent/"


def test_each_function_is_defined_once_and_pins_its_search_path(repo_root: Path) -> None:
    seen: dict[str, str] = {}
    for path in sorted((repo_root / "sql" / "idempotent").glob("*.sql")):
        text = path.read_text()
        assert "pin_search_paths" not in text
        for match in FUNCTION.finditer(text):
            name = match.group(1)
            assert name not in seen, f"{name} is defined in {seen[name]} and {path.name}"
            seen[name] = path.name
            header = text[match.end():text.index("AS $", match.end())]
            if name in INLINED:
                assert "SET " not in header and "LANGUAGE sql" in header, f"{name} in {path.name}"
                continue
            assert "SET search_path = pg_catalog, @vector_schema@, pg_temp" in header, f"{name} in {path.name}"
    assert len(seen) >= 55
