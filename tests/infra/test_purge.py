"""Purging the packages removes everything they made and stops their services. Destructive:
selected only with ST2PKG_PURGE=1, and run after every other check (see conftest.py)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from testinfra.backend.base import CommandResult
from tests.infra.facts import Accounts, Package, Unit
from tests.infra.node import Node, process_user
from tests.infra.settings import Settings

pytestmark = pytest.mark.purge
CREATED_ACCOUNTS = "/var/lib/st2/created-accounts"


@dataclass(frozen=True)
class Purge:
    """The purge command's result and what ran or existed just before it."""

    result: CommandResult
    pids: dict[str, int]
    accounts: list[tuple[str, str]]


@pytest.fixture(scope="module")
def purged(node: Node, settings: Settings) -> Purge:
    """Purge every package under check, once for the module."""
    units: list[Unit] = [u for p in settings.packages for u in p.units]
    pids = {u.name: pid for u in units if (pid := node.init.main_pid(u)) is not None}
    accounts: list[tuple[str, str]] = []
    created = node.host.file(CREATED_ACCOUNTS)
    if created.exists:
        accounts = [(kind, name) for kind, name in
                    (line.split() for line in created.content_string.splitlines() if line)]
    node.init.stop_for_removal(units)
    command = node.ops.purge([p.name for p in settings.packages])
    return Purge(node.host.run(command), pids, accounts)


def test_purge_succeeds(purged: Purge) -> None:
    result = purged.result
    assert result.rc == 0, f"purge failed (exit {result.rc}):\n{result.stdout}{result.stderr}"


def test_purge_uninstalls(node: Node, package: Package, purged: Purge) -> None:
    assert not node.host.package(package.name).is_installed


def test_purge_removes_path(node: Node, removable: str, purged: Purge) -> None:
    found = node.host.file(removable)
    if found.exists:
        contents = node.host.run("ls -A %s", removable).stdout.split() if found.is_directory else []
        pytest.fail(f"{removable} is left after purge{f' holding {contents}' if contents else ''}")


def test_purge_removes_accounts(node: Node, accounts: Accounts, purged: Purge) -> None:
    expected = {("user", n) for n in (*accounts.system_users, *accounts.homes)}
    expected |= {("group", n) for n in accounts.groups}
    created = set(purged.accounts)
    assert created >= expected, (f"{CREATED_ACCOUNTS} did not record {expected - created}: "
                                 "on a fresh test node the package creates them all")
    kinds = {"user": "passwd", "group": "group"}
    left = [f"{kind} {name}" for kind, name in sorted(created)
            if node.host.run("getent %s %s", kinds[kind], name).rc == 0]
    assert not left, f"accounts the package created are left: {left}"
    assert not node.host.file(CREATED_ACCOUNTS).exists


def test_purge_stops_unit(node: Node, unit: Unit, purged: Purge) -> None:
    pid = purged.pids.get(unit.name)
    if pid is None:
        pytest.skip(f"{unit.name} was not running before the purge: nothing to stop")
    user = process_user(node.host, pid)
    assert user is None, f"{unit.name} (pid {pid}, user {user}) still runs after purge"


def test_purge_disables_unit(node: Node, unit: Unit, purged: Purge) -> None:
    links = node.host.run("find /etc/systemd/system -name %s", f"{unit.name}.service")
    assert not links.stdout.split(), f"{unit.name} is still enabled: {links.stdout.split()}"


def test_purge_frees_port(node: Node, port: int, purged: Purge) -> None:
    socket = node.host.socket(f"tcp://127.0.0.1:{port}")
    assert not socket.is_listening, f"port {port} still listening after purge"
