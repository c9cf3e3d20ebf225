"""The st2 command line on the virtualenv's Python, UTF-8 output, and (for packages with
services) st2 end to end: register content, list actions, run core.local, restart with st2ctl."""

from __future__ import annotations

import time

import pytest
from testinfra.backend.base import CommandResult
from tests.infra.facts import Package
from tests.infra.node import Node

UTF8 = "LANG=C.UTF-8 LC_ALL=C.UTF-8"
# "Grüße ✓" spelled in printf escapes: the command line itself stays ASCII.
GREETING = "Grüße ✓"
GREETING_PRINTF = r"printf 'Gr\303\274\303\237e \342\234\223\n'"
RESTART_WAIT = 90.0
# The unit the st2 command line talks to.
API_UNIT = "st2api"


def _output(result: CommandResult) -> str:
    return f"(exit {result.rc})\n{result.stdout}{result.stderr}"


def test_st2_version_on_venv_python(node: Node, package: Package) -> None:
    if "st2" not in package.links:
        pytest.skip(f"{package.name} links no st2 program")
    python = f"{package.venv}/bin/python"
    version = node.host.check_output("%s -c %s", python,
                                     "import platform; print(platform.python_version())")
    result = node.host.run("st2 --version")
    assert result.rc == 0, _output(result)
    shown = result.stdout + result.stderr
    assert f"Python {version}" in shown or python in shown, (
        f"st2 --version does not name the venv's Python {version}: {shown}")
    shebang = node.host.check_output("head -n 1 /usr/bin/st2")
    interpreter = node.host.check_output("readlink -f %s", shebang[2:].split()[0])
    assert interpreter.startswith(f"{package.venv}/"), (
        f"/usr/bin/st2 runs on {interpreter}, not on a Python under {package.venv}")


def test_utf8_output(node: Node, package: Package) -> None:
    script = "import sys; print(sys.stdout.encoding); print('Gr\\u00fc\\u00dfe \\u2713')"
    result = node.host.run(f"{UTF8} %s -c %s", f"{package.venv}/bin/python", script)
    assert result.rc == 0, _output(result)
    encoding, _, text = result.stdout_bytes.partition(b"\n")
    assert encoding.strip().lower() in (b"utf-8", b"utf8"), f"stdout encoding {encoding!r}"
    assert text.strip() == GREETING.encode(), f"printed {text!r}"


@pytest.fixture(scope="module")
def registered(node: Node, server: Package, database: str) -> CommandResult:
    """st2-register-content, as after every install; the other end-to-end checks need it."""
    return node.host.run("st2-register-content --register-all --register-fail-on-failure")


def test_register_content(registered: CommandResult) -> None:
    assert registered.rc == 0, _output(registered)


def test_action_list(node: Node, registered: CommandResult) -> None:
    result = node.host.run("st2 action list")
    assert result.rc == 0, _output(result)
    assert "core.local" in result.stdout, f"core.local is not listed:\n{result.stdout}"


def test_run_local_hostname(node: Node, registered: CommandResult) -> None:
    hostname = node.host.check_output("hostname")
    result = node.host.run("st2 run core.local -- hostname")
    assert result.rc == 0, _output(result)
    assert "succeeded" in result.stdout, _output(result)
    assert hostname in result.stdout, f"{hostname} is not in the result {_output(result)}"


def test_run_local_utf8(node: Node, registered: CommandResult) -> None:
    result = node.host.run(f"{UTF8} st2 run core.local -- %s", GREETING_PRINTF)
    assert result.rc == 0, _output(result)
    assert GREETING.encode() in result.stdout_bytes, _output(result)


def test_st2ctl_restart(node: Node, server: Package, registered: CommandResult) -> None:
    if not node.init.systemctl:
        pytest.skip(f"st2ctl drives systemctl, which needs systemd as PID 1 "
                    f"(init {node.init.name})")
    # A unit already down fails its own checks (test_services); here only what the restart
    # itself breaks counts, so a broken service fails exactly that service's checks.
    healthy = [u for u in server.units if node.init.running_problem(u.name, u.user) is None]
    restart = node.host.run("st2ctl restart")
    if len(healthy) == len(server.units):
        assert restart.rc == 0, _output(restart)
    deadline = time.monotonic() + RESTART_WAIT
    while True:
        listed = node.host.run("st2 action list")
        if listed.rc == 0 or time.monotonic() > deadline:
            break
        time.sleep(1)
    problems = [p for u in healthy if (p := node.init.running_problem(u.name, u.user))]
    assert not problems, f"after st2ctl restart {_output(restart)}\n" + "\n".join(problems)
    if API_UNIT in {u.name for u in healthy}:
        assert listed.rc == 0, f"st2 action list after st2ctl restart {_output(listed)}"
