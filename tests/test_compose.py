"""docker-compose.loadtest.yml and the Dockerfile, checked without a Docker engine.

This machine has no Docker: the compose file is parsed (pyyaml) and its schema
checked (services, health checks, depends_on conditions, a scalable worker),
every `careerload` command it runs is parsed by the real command line, and the
Dockerfile is checked to copy every package the image imports. With a `docker
compose` plugin on the machine, `docker compose config` validates it as well.
"""

from __future__ import annotations

import ast
import re
import shutil
import subprocess
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

from careerload.cli import build_parser

REPO = Path(__file__).resolve().parent.parent
COMPOSE = REPO / "docker-compose.loadtest.yml"
DOCKERFILE = REPO / "Dockerfile"
VARIABLE = re.compile(r"\$\{(\w+)(?::-([^}]*))?\}")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE.read_text())


def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return compose["services"]


def careerload_argv(service: dict[str, Any]) -> list[str]:
    """The service's command with ${VAR:-default} replaced by its default, as compose would with VAR unset."""
    return [VARIABLE.sub(lambda m: m.group(2) or "", str(arg)) for arg in service["command"]]


def test_the_stack_has_every_role(compose: dict[str, Any]) -> None:
    assert set(services(compose)) == {"postgres", "redis", "seed", "target", "locust-master", "locust-worker"}
    postgres = services(compose)["postgres"]
    assert postgres["image"] == "postgres:15"
    assert "shared_preload_libraries=pg_stat_statements" in postgres["command"]
    assert services(compose)["redis"]["image"].startswith("redis:")


def test_health_checks(compose: dict[str, Any]) -> None:
    svc = services(compose)
    assert "pg_isready" in " ".join(svc["postgres"]["healthcheck"]["test"])
    assert svc["redis"]["healthcheck"]["test"] == ["CMD", "redis-cli", "ping"]
    target_check = svc["target"]["healthcheck"]["test"]
    assert target_check[:3] == ["CMD", "python", "-c"]
    assert "urllib.request.urlopen" in target_check[3] and "/api/v1/health" in target_check[3]
    ast.parse(target_check[3])  # the check is valid Python
    for name in ("postgres", "redis", "target"):
        check = svc[name]["healthcheck"]
        assert check["interval"] and check["retries"] >= 10, name


def test_order_comes_from_depends_on_conditions(compose: dict[str, Any]) -> None:
    svc = services(compose)
    conditions = {name: {dep: spec["condition"] for dep, spec in s.get("depends_on", {}).items()}
                  for name, s in svc.items()}
    assert conditions["seed"] == {"postgres": "service_healthy"}
    assert conditions["target"] == {"postgres": "service_healthy", "redis": "service_healthy",
                                    "seed": "service_completed_successfully"}
    assert conditions["locust-master"] == {"target": "service_healthy"}
    assert conditions["locust-worker"] == {"locust-master": "service_started"}
    allowed = {"service_started", "service_healthy", "service_completed_successfully"}
    for name, deps in conditions.items():
        for dep, condition in deps.items():
            assert dep in svc and condition in allowed, (name, dep, condition)
            if condition == "service_healthy":
                assert "healthcheck" in svc[dep], f"{name} waits for {dep} to be healthy, which has no healthcheck"
    assert svc["seed"]["restart"] == "no"


def test_the_worker_scales_and_the_master_serves_the_web_ui(compose: dict[str, Any]) -> None:
    svc = services(compose)
    worker, master = svc["locust-worker"], svc["locust-master"]
    assert "container_name" not in worker and "ports" not in worker  # `--scale locust-worker=4` can start four
    assert not any("container_name" in s for s in svc.values())
    assert "8089:8089" in master["ports"]
    worker_args = build_parser().parse_args(careerload_argv(worker))
    assert (worker_args.command, worker_args.master_host, worker_args.master_port) == ("worker", "locust-master", 5557)
    run = build_parser().parse_args(careerload_argv(master))
    assert run.command == "run" and run.web and run.web_host == "0.0.0.0" and run.web_port == 8089
    assert run.web_login and "CAREERLOAD_WEB_PASSWORD" in master["environment"]  # beyond loopback: a login
    assert run.master and run.master_bind_host == "0.0.0.0" and run.master_port == 5557
    assert run.host == "http://target:8000"
    assert master["volumes"] == ["results:/app/results"]


@pytest.mark.parametrize("name", ["seed", "target", "locust-master", "locust-worker"])
def test_every_careerload_command_parses_with_the_real_cli(compose: dict[str, Any], name: str) -> None:
    service = services(compose)[name]
    assert service["build"] == "." and service["image"] == "careerload:local"
    args = build_parser().parse_args(careerload_argv(service))
    assert callable(args.func)
    assert service["environment"]["DATABASE_URL"].startswith("postgresql://careerload:")


def test_seeding_an_already_seeded_volume_does_not_fail_the_stack(compose: dict[str, Any]) -> None:
    args = build_parser().parse_args(careerload_argv(services(compose)["seed"]))
    assert args.reset and args.seed == 1  # same data every `up`


def test_the_target_listens_on_all_interfaces_in_its_container(compose: dict[str, Any]) -> None:
    args = build_parser().parse_args(careerload_argv(services(compose)["target"]))
    assert (args.host, args.port) == ("0.0.0.0", 8000)


def _imported_top_level(package: Path) -> set[str]:
    names = set()
    for path in package.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module.split(".")[0])
    return names


def test_the_dockerfile_copies_every_package_the_image_needs() -> None:
    text = DOCKERFILE.read_text()
    copied = set(re.findall(r"^COPY (\w+) \./\1$", text, re.M))
    project = tomllib.loads((REPO / "pyproject.toml").read_text())
    installed = {name.rstrip("*") for name in project["tool"]["setuptools"]["packages"]["find"]["include"]}
    assert installed <= copied, installed - copied
    # and every repository package those packages import (a missing one would fail at run time only)
    local = {p.name for p in REPO.iterdir() if (p / "__init__.py").exists()}
    needed = set().union(*(_imported_top_level(REPO / name) for name in installed)) & local
    assert needed <= copied, needed - copied
    assert re.search(r"^COPY pyproject\.toml README\.md \./$", text, re.M)
    assert 'ENTRYPOINT ["careerload"]' in text
    assert "/app/results" in text  # the volume the master writes run directories into


def _has_compose_plugin() -> bool:
    if shutil.which("docker") is None:
        return False
    return subprocess.run(["docker", "compose", "version"], capture_output=True, timeout=30).returncode == 0


@pytest.mark.skipif(not _has_compose_plugin(), reason="no `docker compose` plugin on this machine")
def test_docker_compose_config_accepts_the_file() -> None:
    result = subprocess.run(["docker", "compose", "-f", str(COMPOSE), "config", "--quiet"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
