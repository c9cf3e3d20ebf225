"""The package's systemd units: installed as its recipe says with their EnvironmentFile=
hooks, enabled, running as their User= (a pool unit: its workers too), and the HTTP services
listening where st2.conf says. Under init "plain" the units run under
packaging/scripts/start-units; st2pkg.inits holds the difference."""

from __future__ import annotations

import configparser

import pytest
from tests.infra.facts import Bind, Package, Unit
from tests.infra.node import Node, is_enabled

ST2_CONF = "/etc/st2/st2.conf"


def _service_section(node: Node, path: str) -> configparser.SectionProxy:
    found = node.host.file(path)
    assert found.is_file, f"{path} is missing"
    parsed = configparser.ConfigParser(interpolation=None, strict=False)
    parsed.read_string(found.content_string)
    return parsed["Service"]


def test_unit_file(node: Node, package: Package, unit: Unit) -> None:
    service = _service_section(node, unit.path)
    assert (service.get("User"), service.get("Group")) == (unit.user, unit.group)
    program = service.get("ExecStart", "").split()[0]
    assert program == f"{package.venv}/bin/{unit.program}"
    assert node.host.run("test -x %s", program).rc == 0, f"{program} is not executable"


def test_environment_file_hook(node: Node, unit: Unit) -> None:
    """/etc/default/UNIT (deb) or /etc/sysconfig/UNIT (rpm), optional, and its DAEMON_ARGS
    passed on, in the unit and in its worker template."""
    paths = [unit.path, *([unit.template_path] if unit.workers else [])]
    for path in paths:
        service = _service_section(node, path)
        assert service.get("EnvironmentFile") == f"-{node.ops.env_dir}/{unit.name}", path
        assert "$DAEMON_ARGS" in service.get("ExecStart", "").split(), path


def _workers(node: Node, unit: Unit) -> int:
    """WORKERS of the unit's EnvironmentFile, else the unit's default."""
    env = node.host.file(f"{node.ops.env_dir}/{unit.name}")
    if env.exists:
        for line in env.content_string.splitlines():
            key, _, value = line.strip().partition("=")
            if key == "WORKERS" and value.strip("\"'").isdigit():
                return int(value.strip("\"'"))
    return unit.workers


def test_worker_template(node: Node, package: Package, pool: Unit) -> None:
    service = _service_section(node, pool.template_path)
    assert (service.get("User"), service.get("Group")) == (pool.worker_user, pool.group)
    assert service.get("ExecStart", "").split()[0] == f"{package.venv}/bin/{pool.worker_program}"
    lines = node.host.file(pool.template_path).content_string.splitlines()
    assert "Environment=WORKERID=%i" in lines, f"{pool.template_path} sets no WORKERID"


@pytest.mark.usefixtures("database")
def test_workers_running(node: Node, pool: Unit) -> None:
    problems = node.init.worker_problems(pool.name, _workers(node, pool), pool.worker_program,
                                         pool.worker_user)
    assert not problems, "\n".join(problems)


def test_enabled(node: Node, unit: Unit) -> None:
    enabled, state = is_enabled(node.host, unit)
    assert enabled, f"{unit.name} is not enabled (systemctl is-enabled: {state})"


@pytest.mark.usefixtures("database")
def test_running(node: Node, unit: Unit) -> None:
    problem = node.init.running_problem(unit.name, unit.user)
    assert problem is None, problem


def _address(node: Node, bind: Bind) -> str:
    """HOST:PORT of st2.conf's [section], the unit's defaults for what it omits."""
    conf = configparser.ConfigParser(interpolation=None, strict=False)
    conf.read_string(node.host.file(ST2_CONF).content_string)
    host = conf.get(bind.section, "host", fallback=bind.host)
    port = conf.get(bind.section, "port", fallback=str(bind.port))
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


@pytest.mark.usefixtures("database")
def test_listening(node: Node, package: Package, port: int) -> None:
    """The unit whose default is ``port`` listens where st2.conf says (there: by default)."""
    owners = [u for u in package.units if port in u.ports]
    assert owners, f"no unit of packaging/{package.name}/services binds port {port} by default"
    for unit in owners:
        assert unit.bind is not None
        address = _address(node, unit.bind)
        if not node.host.socket(f"tcp://{address}").is_listening:
            listening = node.host.run("ss -ltnp").stdout
            pytest.fail(f"{unit.name}: nothing listens on {address} (st2.conf "
                        f"[{unit.bind.section}])\n--- ss -ltnp ---\n{listening}\n"
                        f"{node.init.logs(unit.name)}")
