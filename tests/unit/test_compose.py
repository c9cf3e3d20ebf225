"""Compose: which command runs it, and a project's commands as the engine's compose sees them.
A stand-in compose on PATH answers here; the real one is driven by the Docker-backed tests."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from st2pkg.compose import Project, find
from st2pkg.errors import StageError, UnavailableError
from st2pkg.paths import COMPOSE_FILE

# Prints its argv and $PROJECT_ENV; exits with $COMPOSE_EXIT (0 when unset).
STAND_IN = """#!/bin/sh
case "$*" in *version*) [ -n "$NO_VERSION" ] && exit 1; echo "compose 9"; exit 0;; esac
echo "args: $*"
echo "env: $PROJECT_ENV"
echo "one"; echo "two"; echo "three"
exit "${COMPOSE_EXIT:-0}"
"""


@pytest.fixture
def bin_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An otherwise empty PATH (sh aside), where tests put the compose commands they want."""
    path = tmp_path / "bin"
    path.mkdir()
    sh = shutil.which("sh")
    assert sh is not None
    (path / "sh").symlink_to(sh)
    monkeypatch.setenv("PATH", str(path))
    return path


def install(bin_dir: Path, name: str, script: str = STAND_IN) -> Path:
    tool = bin_dir / name
    tool.write_text(script)
    tool.chmod(0o755)
    return tool


def test_auto_prefers_the_plugin(bin_dir: Path) -> None:
    install(bin_dir, "docker")
    install(bin_dir, "docker-compose")
    assert find("auto") == ["docker", "compose"]
    assert find("v1") == ["docker-compose"]


def test_auto_falls_back_to_v1_when_the_plugin_does_not_answer(bin_dir: Path) -> None:
    install(bin_dir, "docker", STAND_IN.replace('[ -n "$NO_VERSION" ] && exit 1', "exit 1"))
    install(bin_dir, "docker-compose")
    assert find("auto") == ["docker-compose"]
    with pytest.raises(UnavailableError, match=r"no compose found for compose=v2: install"):
        find("v2")


def test_no_compose_at_all(bin_dir: Path) -> None:
    with pytest.raises(UnavailableError) as info:
        find("auto")
    assert "install the Docker Compose plugin ('docker compose') or docker-compose" in \
        str(info.value)
    assert info.value.exit_code == 3


def test_a_project_runs_with_its_name_file_and_env(bin_dir: Path) -> None:
    tool = install(bin_dir, "docker-compose")
    project = Project([str(tool)], "st2pkg-20260101-ab12-bookworm",
                      {"PROJECT_ENV": "from-project", "PATH": os.environ["PATH"]})
    lines: list[str] = []
    project.create(["build", "test"], lines.append)
    assert lines[0] == (f"$ -p st2pkg-20260101-ab12-bookworm -f {COMPOSE_FILE} up --no-start "
                        "--force-recreate build test")
    assert lines[1:3] == [f"args: -p st2pkg-20260101-ab12-bookworm -f {COMPOSE_FILE} up "
                          "--no-start --force-recreate build test", "env: from-project"]
    project.down(lines.append)
    assert lines[-5].endswith("down --volumes --remove-orphans --timeout 5")


def test_a_failed_command_says_which_and_its_last_lines(bin_dir: Path) -> None:
    tool = install(bin_dir, "docker-compose")
    project = Project([str(tool)], "st2pkg-run-trixie",
                      {"COMPOSE_EXIT": "1", "PATH": os.environ["PATH"]})
    with pytest.raises(StageError) as info:
        project.start(["test"], print)
    assert str(info.value) == "compose start for st2pkg-run-trixie failed: one | two | three"


def test_compose_file_is_shipped() -> None:
    assert COMPOSE_FILE.is_file()
    assert "services:" in COMPOSE_FILE.read_text()
