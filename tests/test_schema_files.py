"""The rules of sql/ (sql/README.md): frozen releases, one definition per function, pinned paths."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from conftest import INLINED

from vecpg.db import migrate
from vecpg.schema.layer import FINISH_FILES

FUNCTION = re.compile(r"CREATE\s+(?:OR\s+REPLACE\s+)?FUNCTION\s+(vecpg\.\w+)\s*\(", re.IGNORECASE)
CALL = re.compile(r"\b(vecpg\.\w+)\s*\(")
# Statements that touch tables: in the layer, only its finish (idempotent/ from 95_ on) has them.
TABLE_STATEMENT = re.compile(r"^(?:CREATE|DROP)\s+(?:OR\s+REPLACE\s+)?(?:TRIGGER|POLICY|VIEW)\b", re.MULTILINE)
# Files 001-009 were written before the split and define functions too; later ones may not.
LAST_MIXED_FILE = 9
# Layer functions an incremental file from 010 on may use although the layer comes after it,
# and why that is safe: each is defined by an earlier incremental file (so it exists whatever
# revision the upgrade starts from) and kept by every later layer with the same signature.
# A file that needs more asks for the previous revision's layer first (upgrade_step's layer_of).
MAY_USE = {
    # A column default and a policy refer to it (by oid: later layers' bodies apply).
    "011_embedding_queue.sql": {"vecpg.current_tenant"},
}


def _frozen(repo_root: Path) -> dict[str, str]:
    lines = (repo_root / "sql" / "frozen.txt").read_text().splitlines()
    return {name: digest for digest, name in (line.split() for line in lines if line and not line.startswith("#"))}


def test_released_files_are_unchanged(repo_root: Path) -> None:
    frozen = {name: digest for name, digest in _frozen(repo_root).items() if not name.startswith("layer/")}
    assert len(frozen) >= 16
    for name, digest in frozen.items():
        actual = hashlib.sha256((repo_root / "sql" / name).read_bytes()).hexdigest()
        assert actual == digest, f"sql/{name} changed after release: write a new incremental file instead"


def test_every_revision_below_head_has_a_frozen_delta(repo_root: Path) -> None:
    revisions = sorted(p.name[:4] for p in (repo_root / "migrations" / "versions").glob("[0-9][0-9][0-9][0-9]_*.py"))
    assert revisions[-1] == migrate.head()
    frozen = _frozen(repo_root)
    for revision in revisions[:-1]:
        assert f"layer/{revision}" in frozen, f"python -m vecpg.schema.freeze {revision} prints its layer's line"
    # The newest delta follows the head's layer until the next revision is released.
    for revision in revisions[:-2]:
        assert f"history/{revision}.sql" in frozen, f"freeze the delta of {revision}: it is released"
    history = sorted(p.stem for p in (repo_root / "sql" / "history").iterdir())
    assert history == revisions[:-1]
    assert not (repo_root / "sql" / "snapshots").exists()


def test_the_layer_touches_tables_only_in_its_finish(repo_root: Path) -> None:
    files = sorted((repo_root / "sql" / "idempotent").glob("*.sql"))
    assert any(f.name >= FINISH_FILES and TABLE_STATEMENT.search(f.read_text()) for f in files)
    for path in files:
        if path.name < FINISH_FILES:
            assert not TABLE_STATEMENT.search(path.read_text()), f"{path.name}: move it to the finish (95_ on)"


def _uses(path: Path) -> tuple[set[str], set[str]]:
    """The vecpg functions a file defines, and those it names otherwise: calls and drops
    (comment lines aside; tables named like ``vecpg.mirror (`` are no function of the layer)."""
    code = "\n".join(line for line in path.read_text().splitlines() if not line.lstrip().startswith("--"))
    return set(FUNCTION.findall(code)), set(CALL.findall(code))


def _layer_first(repo_root: Path, name: str) -> bool:
    """Whether the revision running incremental file ``name`` asks for the previous layer first."""
    for path in (repo_root / "migrations" / "versions").glob("*.py"):
        for line in path.read_text().splitlines():
            if f"incremental/{name}" in line:
                return "layer_of=down_revision" in line
    raise AssertionError(f"no revision runs incremental/{name}")


def test_incremental_files_use_no_layer_function(repo_root: Path) -> None:
    """The layer is applied once, after every incremental file of an upgrade: from 010 on (they
    define no function), an incremental file may not call or drop one of its functions. 001-009
    run only on databases below revision 0007, which never had a layer going up: each uses only
    functions it or an earlier one of them defines."""
    sql_dir = repo_root / "sql"
    layer = {name for path in [*(sql_dir / "idempotent").glob("*.sql"), *(sql_dir / "history").glob("*.sql")]
             for name in FUNCTION.findall(path.read_text())}
    assert len(layer) >= 100
    defined: set[str] = set()
    for path in sorted((sql_dir / "incremental").glob("[0-9][0-9][0-9]_*.sql")):
        defines, used = _uses(path)
        defined |= defines
        used &= layer | defined
        if int(path.name[:3]) <= LAST_MIXED_FILE:
            assert used <= defined, f"{path.name} uses {sorted(used - defined)}, defined by no earlier file"
        elif not _layer_first(repo_root, path.name):
            allowed = MAY_USE.get(path.name, set())
            assert allowed <= defined, f"{path.name}: {sorted(allowed - defined)} come from the layer only"
            assert used <= allowed, f"{path.name} uses {sorted(used - allowed)} of the layer, which comes after it"


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
