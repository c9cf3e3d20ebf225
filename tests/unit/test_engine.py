"""The engine seam: Docker and the unit tests' fake engine both are an Engine, with the same
signatures, so a test over the fake drives the stages as the real engine would."""

from __future__ import annotations

import inspect

import pytest
from tests.unit.fakes import FakeEngine

from st2pkg.containers import Docker
from st2pkg.engine import Engine

METHODS = sorted(name for name, value in vars(Engine).items()
                 if inspect.isfunction(value) and not name.startswith("_"))


def test_docker_and_the_fake_are_engines_to_mypy() -> None:
    real: Engine = Docker.__new__(Docker)
    fake: Engine = FakeEngine()
    assert {type(real), type(fake)} == {Docker, FakeEngine}


@pytest.mark.parametrize("implementation", [Docker, FakeEngine])
@pytest.mark.parametrize("name", METHODS)
def test_signatures_match_the_protocol(implementation: type, name: str) -> None:
    wanted = inspect.signature(getattr(Engine, name))
    found = inspect.signature(inspect.unwrap(getattr(implementation, name)))
    assert list(found.parameters) == list(wanted.parameters)
    assert [p.default for p in found.parameters.values()] == \
        [p.default for p in wanted.parameters.values()]


def test_the_protocol_lists_what_the_stages_call() -> None:
    assert "image_id" in METHODS
    assert "remove_labelled" in METHODS
    assert "from_env" not in METHODS, "connecting is Docker's own business, not the stages'"
