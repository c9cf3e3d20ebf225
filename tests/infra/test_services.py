"""The package's systemd units: installed as its recipe says, enabled, running as their
User=, and the API services listening on their ports. Under init "plain" the units run under
packaging/scripts/start-units; Init (tests/infra/node.py) holds the difference."""

from __future__ import annotations

import configparser

import pytest
from tests.infra.facts import Package, Unit
from tests.infra.node import Node, is_enabled

LISTEN_HOST = "127.0.0.1"


def test_unit_file(node: Node, package: Package, unit: Unit) -> None:
    found = node.host.file(unit.path)
    assert found.is_file, f"{unit.path} is missing"
    parsed = configparser.ConfigParser(interpolation=None, strict=False)
    parsed.read_string(found.content_string)
    service = parsed["Service"]
    assert (service.get("User"), service.get("Group")) == (unit.user, unit.group)
    program = service.get("ExecStart", "").split()[0]
    assert program == f"{package.venv}/bin/{unit.program}"
    assert node.host.run("test -x %s", program).rc == 0, f"{program} is not executable"


def test_enabled(node: Node, unit: Unit) -> None:
    enabled, state = is_enabled(node.host, unit)
    assert enabled, f"{unit.name} is not enabled (systemctl is-enabled: {state})"


@pytest.mark.usefixtures("database")
def test_running(node: Node, unit: Unit) -> None:
    problem = node.init.running_problem(unit)
    assert problem is None, problem


@pytest.mark.usefixtures("database")
def test_listening(node: Node, package: Package, port: int) -> None:
    owners = [u for u in package.units if port in u.ports]
    assert owners, f"no unit of packaging/{package.name}/services binds port {port}"
    socket = node.host.socket(f"tcp://{LISTEN_HOST}:{port}")
    if not socket.is_listening:
        listening = node.host.run("ss -ltnp").stdout
        logs = "\n".join(node.init.logs(u) for u in owners)
        pytest.fail(f"nothing listens on {LISTEN_HOST}:{port} ({', '.join(u.name for u in owners)})"
                    f"\n--- ss -ltnp ---\n{listening}\n{logs}")
