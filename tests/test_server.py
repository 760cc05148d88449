"""The embedded server: sized for vector search, started on demand, shared across processes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from vecpg.db.server import EmbeddedServer, recommended_settings
from vecpg.errors import ServerError


def test_settings_are_sized_from_the_machine() -> None:
    big = recommended_settings(total_memory=24 << 30, cpus=2)
    assert big["shared_buffers"] == "6144MB"
    assert big["effective_cache_size"] == "12288MB"
    assert big["max_parallel_maintenance_workers"] == "1"
    assert big["jit"] == "off"
    assert recommended_settings(total_memory=256 << 30, cpus=64)["shared_buffers"] == "8192MB"
    assert recommended_settings(total_memory=256 << 20, cpus=1)["shared_buffers"] == "128MB"


def test_server_lifecycle_overrides_and_reuse(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("VECPG_SHARED_BUFFERS", raising=False)
    server = EmbeddedServer(tmp_path / "home")
    assert server.url() is None and not server.status().running
    server.save_overrides({"shared_buffers": "192MB"})
    with pytest.raises(ServerError, match="unknown server setting"):
        server.save_overrides({"fsync": "off"})
    try:
        url = server.start()
        status = server.status()
        assert status.running and status.url == url
        assert status.settings["shared_buffers"] == "192MB"
        assert status.settings["jit"] == "off"
        # psql accepts the URL as printed.
        out = subprocess.run(["psql", url, "-Atc", "SELECT name FROM pg_available_extensions WHERE name = 'vector'"],
                             capture_output=True, text=True, check=True).stdout
        assert out.strip() == "vector"

        # Another process with the same VECPG_HOME reuses the running server.
        env = {**os.environ, "VECPG_HOME": str(tmp_path / "home")}
        child = subprocess.run(
            [sys.executable, "-m", "vecpg.cli", "db", "url"], env=env, capture_output=True, text=True, check=True
        )
        assert child.stdout.strip() == url
        with psycopg.connect(url) as conn:
            assert conn.execute("SELECT current_database()").fetchone() == ("vecpg",)

        # An override saved while running applies at the next restart, and status says so.
        server.save_overrides({"shared_buffers": "160MB"})
        server._write_config()
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("SELECT pg_reload_conf()")
        assert "shared_buffers" in server.status().pending_restart
        assert server.stop() is True
        assert server.url() is None
        assert server.start() == url
        assert server.status().settings["shared_buffers"] == "160MB"
    finally:
        server.stop()
    assert server.stop() is False
