"""The documentation against the code: every CLI command and option in docs/cli.md, the README's
Python examples run, every relative link (and its #anchor) leads somewhere.

In the manner of sqlite-utils' tests/test_docs.py: the lists come from the code (the click tree
of ``vecpg.cli.main``), so a command or option added without documentation fails here by name.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import click
import psycopg
import pytest

import vecpg
from vecpg.cli import main

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
README = ROOT / "README.md"
CLI_DOC = DOCS / "cli.md"

FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.MULTILINE | re.DOTALL)
HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*$", re.MULTILINE)
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")


# -- the click tree ---------------------------------------------------------------------------
def commands(command: click.Command = main, path: tuple[str, ...] = ("vecpg",)) -> Iterator[tuple[str, click.Command]]:
    """Every command of the tree with its full path, groups included (``vecpg index create``)."""
    yield " ".join(path), command
    if isinstance(command, click.Group):
        for name, sub in sorted(command.commands.items()):
            yield from commands(sub, (*path, name))


def long_options(command: click.Command) -> list[str]:
    """A command's options in their long forms (``--concurrently``, ``--no-x`` too), whatever
    the command has: --version included once the group has it."""
    return sorted({opt for p in command.params if isinstance(p, click.Option)
                   for opt in (*p.opts, *p.secondary_opts) if opt.startswith("--")})


COMMANDS = dict(commands())
OPTIONS = [(path, option) for path, command in COMMANDS.items() for option in long_options(command)]


def without_fences(text: str) -> str:
    return FENCE.sub("", text)


def cli_sections() -> dict[str, tuple[int, str]]:
    """docs/cli.md's sections by command path: the heading "### `vecpg index create`" gives
    ``{"vecpg index create": (3, its text up to the next heading)}``."""
    text = CLI_DOC.read_text(encoding="utf-8")
    heads = list(HEADING.finditer(text))
    sections = {}
    for i, head in enumerate(heads):
        title = head.group(2).strip().strip("`").strip()
        if title.startswith("vecpg"):
            end = heads[i + 1].start() if i + 1 < len(heads) else len(text)
            sections[title] = (len(head.group(1)), text[head.end():end])
    return sections


@pytest.mark.parametrize("path", sorted(COMMANDS))
def test_command_documented(path: str) -> None:
    """Each command has a section of its own in docs/cli.md, headed by its full path."""
    assert path in cli_sections(), f"docs/cli.md has no section headed `{path}`"


@pytest.mark.parametrize(("path", "option"), OPTIONS, ids=[f"{p} {o}" for p, o in OPTIONS])
def test_option_documented(path: str, option: str) -> None:
    """Each option is named in its command's section, or in the text of a group above it
    before its first subsection (options every subcommand shares, such as --url)."""
    sections = cli_sections()
    words = path.split()
    texts = [sections[" ".join(words[:n])][1] for n in range(len(words), 0, -1) if " ".join(words[:n]) in sections]
    pattern = re.compile(rf"(?<![\w-]){re.escape(option)}(?![\w-])")
    assert any(pattern.search(text) for text in texts), f"docs/cli.md does not document `{path} {option}`"


def test_the_tree_is_walked() -> None:
    """The walk finds the commands and options the reference relies on (guards the test itself)."""
    assert {"vecpg index create", "vecpg worker status", "vecpg mirror sync"} <= set(COMMANDS)
    assert ("vecpg index create", "--concurrently") in OPTIONS
    assert ("vecpg collection drop", "--missing-ok") in OPTIONS


# -- the README's Python examples ---------------------------------------------------------------
def blocks(path: Path, language: str) -> list[str]:
    return [body for lang, body in FENCE.findall(path.read_text(encoding="utf-8")) if lang == language]


def python_blocks(path: Path) -> list[str]:
    return blocks(path, "python")


def test_readme_has_python_examples() -> None:
    assert len(python_blocks(README)) >= 2


def test_readme_examples_run(logins: dict[str, str], embedder: vecpg.Embedder,
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """The README's ```python blocks, in order, in one namespace, against this test's database;
    then its ```sql blocks, statement by statement, each returning rows.

    ``vecpg.connect()`` logs in as an ordinary member of vecpg_admin, as it logs in as vecpg_app
    on the embedded server, so tenants are enforced as they would be for a reader of the README.
    """
    real_connect = vecpg.connect
    opened: list[vecpg.Store] = []

    def connect(url: str | None = None, **kwargs: object) -> vecpg.Store:
        opened.append(real_connect(url or logins["admin"], **kwargs))  # type: ignore[arg-type]
        return opened[-1]

    monkeypatch.setattr(vecpg, "connect", connect)
    namespace: dict[str, object] = {"__name__": "readme"}
    try:
        for n, block in enumerate(python_blocks(README), start=1):
            try:
                exec(compile(block, f"README.md python block {n}", "exec"), namespace)  # noqa: S102 -- the README, by design
            except Exception as exc:  # noqa: BLE001 -- any error of an example fails the test, named
                pytest.fail(f"README.md's python block {n} raised {exc!r}:\n{block}")
        # Then the SQL, as psql would send it, on the collection the Python examples made.
        with psycopg.connect(logins["admin"], autocommit=True) as conn:
            for n, block in enumerate(blocks(README, "sql"), start=1):
                # Split at semicolons: the README's statements have none inside their strings.
                for statement in (s for s in block.split(";") if s.strip()):
                    try:
                        rows = conn.execute(statement).fetchall()
                    except psycopg.Error as exc:
                        pytest.fail(f"README.md's sql block {n} failed: {exc}\n{statement}")
                    assert rows, f"README.md's sql block {n} returned nothing:\n{statement}"
    finally:
        for store in opened:
            store.close()
    assert opened, "no README example called vecpg.connect()"


# -- links ------------------------------------------------------------------------------------
def slug(heading: str) -> str:
    """GitHub's anchor for a heading."""
    text = re.sub(r"[`*_]|\[([^\]]*)\]\([^)]*\)", r"\1", heading).strip().lower()
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def anchors(path: Path) -> set[str]:
    return {slug(h.group(2)) for h in HEADING.finditer(without_fences(path.read_text(encoding="utf-8")))}


def relative_links() -> list[tuple[Path, str]]:
    links = []
    for doc in [README, *sorted(DOCS.glob("*.md"))]:
        for target in LINK.findall(without_fences(doc.read_text(encoding="utf-8"))):
            if not re.match(r"^[a-z][a-z0-9+.-]*:", target):  # http:, https:, mailto: ...
                links.append((doc, target))
    return links


LINKS = relative_links()


@pytest.mark.parametrize(("doc", "target"), LINKS, ids=[f"{d.relative_to(ROOT)} -> {t}" for d, t in LINKS])
def test_relative_link_resolves(doc: Path, target: str) -> None:
    file_part, _, anchor = target.partition("#")
    path = (doc.parent / file_part).resolve() if file_part else doc
    assert path.exists(), f"{doc.relative_to(ROOT)} links to {target}, which does not exist"
    if anchor and path.suffix == ".md":
        assert anchor in anchors(path), f"{doc.relative_to(ROOT)} links to {target}: no such heading"


def test_links_are_found() -> None:
    assert any(t.startswith("docs/cli.md") for d, t in LINKS if d == README)
