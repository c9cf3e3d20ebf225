"""Integration tests drive real Docker through the same invoke tasks users run."""

from __future__ import annotations

import os
from collections.abc import Iterator

import docker
import docker.errors
import pytest
from tests.support import Cli

from st2pkg.containers import Docker
from st2pkg.errors import UnavailableError


def _docker_reason() -> str | None:
    try:
        docker.from_env().ping()
    except docker.errors.DockerException as err:
        return f"no Docker engine reachable: {err}"
    return None


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    reason = _docker_reason()
    if reason is None:
        return
    for item in items:
        if item.get_closest_marker("docker"):
            item.add_marker(pytest.mark.skip(reason=reason))


@pytest.fixture(scope="session")
def cli(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cli]:
    work = tmp_path_factory.mktemp("st2pkg")
    env = dict(os.environ)
    env.update({"ST2PKG_STATE_DIR": str(work / "state"), "ST2PKG_OUTPUT": str(work / "build")})
    runner = Cli(env)
    yield runner
    # Failed builds keep their nodes for debugging; the tests fail some on purpose.
    runner("clean", check=False)


@pytest.fixture(scope="session")
def engine() -> Docker:
    """st2pkg's Docker wrapper on the engine the tests use."""
    try:
        return Docker.from_env()
    except UnavailableError as err:
        pytest.skip(str(err))
