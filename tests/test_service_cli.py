"""``vecpg keys`` and ``vecpg serve`` as a user runs them: a key printed alone on stdout, a real
server process answering with it, and serving without keys refused off loopback."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import httpx
import pytest
from click.testing import CliRunner
from conftest import free_port

import vecpg
from vecpg.cli import main


def test_keys_create_list_revoke(logins: dict[str, str]) -> None:
    runner = CliRunner()
    created = runner.invoke(main, ["keys", "create", "--tenant", "acme", "--scope", "write", "-c", "kb",
                                   "--expires", "30d", "--description", "the help desk", "--url", logins["admin"]])
    assert created.exit_code == 0, created.output
    key = created.stdout.strip()
    assert key.startswith("vpk_") and "\n" not in key and "write" in created.stderr
    key_id = key.split("_")[1]
    listed = runner.invoke(main, ["keys", "list", "--url", logins["admin"]])
    assert key_id in listed.stdout and "the help desk" in listed.stdout and key.split("_")[2] not in listed.stdout
    assert runner.invoke(main, ["keys", "revoke", key_id, "--url", logins["admin"]]).exit_code == 0
    again = runner.invoke(main, ["keys", "revoke", key_id, "--url", logins["admin"]])
    assert again.exit_code == 2 and "no active key" in again.stderr
    for args, message in ((["--scope", "read"], "bound to a tenant"), (["--tenant", "a", "--expires", "yesterday"],
                                                                       "expires must be")):
        bad = runner.invoke(main, ["keys", "create", *args, "--url", logins["admin"]])
        assert bad.exit_code == 2 and message in bad.stderr


def test_serve_without_keys_only_on_loopback(db_url: str) -> None:
    refused = CliRunner().invoke(main, ["serve", "--no-keys", "--host", "0.0.0.0", "--url", db_url])
    assert refused.exit_code == 2 and "loopback only" in refused.stderr


def test_serve_refuses_a_role_that_bypasses_row_level_security(db_url: str) -> None:
    refused = CliRunner().invoke(main, ["serve", "--url", db_url])  # the tests' superuser
    assert refused.exit_code == 2 and "bypasses row-level security" in refused.stderr


def test_a_served_search_with_a_key_from_the_command_line(logins: dict[str, str], store: vecpg.Store) -> None:
    store.create_collection("notes", dimension=3).upsert([])
    with vecpg.connect(logins["admin"]) as admin:
        admin.collection("notes").upsert([{"id": "x", "content": "x", "embedding": [1, 0, 0]}], tenant="acme")
    key = CliRunner().invoke(main, ["keys", "create", "--tenant", "acme", "--url", logins["admin"]]).stdout.strip()
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "vecpg.cli", "serve", "--port", str(port), "--url", logins["admin"]],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, env={**os.environ})
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz").status_code == 200:
                    break
            except httpx.TransportError:
                assert server.poll() is None, server.stderr.read() if server.stderr else ""
                assert time.monotonic() < deadline
                time.sleep(0.2)
        found = httpx.post(f"http://127.0.0.1:{port}/collections/notes/search", headers={"api-key": key},
                           json={"query": [1, 0, 0], "mode": "vector", "k": 1})
        assert found.json()["results"][0]["id"] == "x"
        assert httpx.get(f"http://127.0.0.1:{port}/readyz").json()["status"] == "ready"
        assert httpx.get(f"http://127.0.0.1:{port}/collections").status_code == 401
    finally:
        server.terminate()
        server.wait(10)


@pytest.mark.parametrize("host, loopback", [("127.0.0.1", True), ("::1", True), ("localhost", True),
                                            ("0.0.0.0", False), ("10.0.0.5", False), ("example.com", False)])
def test_loopback_addresses(host: str, loopback: bool) -> None:
    from vecpg.cli.serve import is_loopback

    assert is_loopback(host) is loopback
