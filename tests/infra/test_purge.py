"""Destructive checks, selected only with ST2PKG_PURGE=1 and run after every other check (see
conftest.py), in this order:

- an HTTP service moved to another port in st2.conf listens there once restarted (st2.conf is
  where it listens);
- an upgrade keeps what the user changed: edits of the configuration in /etc/st2, and the
  packs, virtualenvs and pack configs under /opt/stackstorm (the package file the run
  installed is installed again over itself, through the package's upgrade path: dpkg -i,
  rpm -U --replacepkgs);
- purging the packages removes everything they made and stops their services."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from testinfra.backend.base import CommandResult
from tests.infra.facts import Accounts, Package, Unit
from tests.infra.node import Node
from tests.infra.settings import Settings

from st2pkg.inits import process_user
from st2pkg.remote import Result

pytestmark = pytest.mark.purge
CREATED_ACCOUNTS = "/var/lib/st2/created-accounts"
# Where the verify stage puts the package files it installs.
ARTIFACTS = "/opt/st2pkg/artifacts"
CONF = "/etc/st2/st2.conf"
CONF_MARK = "# st2pkg: a change of the user's, to keep across upgrades"
USER_FILES = ("/opt/stackstorm/packs/st2pkg_kept/pack.yaml",
              "/opt/stackstorm/virtualenvs/st2pkg_kept/pyvenv.cfg",
              "/opt/stackstorm/configs/st2pkg_kept.yaml")


# Where st2api is moved to, to see it follow st2.conf.
MOVED_PORT = 9191
SET_PORT = ("import configparser, sys; c = configparser.ConfigParser(interpolation=None); "
            "c.read(sys.argv[1]); c.set(sys.argv[2], 'port', sys.argv[3]); "
            "c.write(open(sys.argv[1], 'w'))")
LISTEN_WAIT = 60.0


@pytest.fixture
def moved(node: Node, server: Package) -> Iterator[tuple[Unit, str | None]]:
    """The first HTTP unit restarted after its st2.conf port became MOVED_PORT (and why it
    could not be restarted, if so); st2.conf and the unit are restored afterwards."""
    unit = next(u for u in server.units if u.bind)
    assert unit.bind is not None
    saved = node.host.file(CONF).content_string
    python = f"{server.venv}/bin/python"
    node.host.check_output("%s -c %s %s %s %s", python, SET_PORT, CONF, unit.bind.section,
                           str(MOVED_PORT))
    yield unit, node.init.restart(unit.name)
    node.host.check_output("printf '%%s' %s >%s", saved, CONF)
    node.init.restart(unit.name)


def test_http_service_follows_st2_conf(node: Node, moved: tuple[Unit, str | None]) -> None:
    unit, problem = moved
    assert problem is None, problem
    deadline = time.monotonic() + LISTEN_WAIT
    while not node.host.socket(f"tcp://127.0.0.1:{MOVED_PORT}").is_listening:
        if time.monotonic() > deadline:
            pytest.fail(f"{unit.name} does not listen on 127.0.0.1:{MOVED_PORT}, its st2.conf "
                        f"port after a restart\n{node.init.logs(unit.name)}")
        time.sleep(1)


@pytest.fixture(scope="module")
def upgraded(node: Node, server: Package) -> CommandResult:
    """The package installed over itself, after the user's changes."""
    pattern = node.ops.artifact_glob.format(name=server.name)
    found = node.host.run(f"ls {ARTIFACTS}/{pattern}").stdout.split()
    if len(found) != 1:
        pytest.skip(f"no single {pattern} in {ARTIFACTS} to upgrade with (found {found})")
    node.host.check_output("echo %s >>%s", CONF_MARK, CONF)
    for path in USER_FILES:
        node.host.check_output("mkdir -p \"$(dirname %s)\" && echo kept >%s", path, path)
    return node.host.run(node.ops.reinstall_query, found[0])


def test_upgrade_succeeds(upgraded: CommandResult) -> None:
    assert upgraded.rc == 0, f"(exit {upgraded.rc})\n{upgraded.stdout}{upgraded.stderr}"


def test_upgrade_keeps_configuration_changes(node: Node, upgraded: CommandResult) -> None:
    assert CONF_MARK in node.host.file(CONF).content_string, f"the change of {CONF} is gone"


@pytest.mark.parametrize("path", USER_FILES)
def test_upgrade_keeps_user_files(node: Node, upgraded: CommandResult, path: str) -> None:
    assert node.host.file(path).is_file, f"{path} is gone after the upgrade"


@dataclass(frozen=True)
class Purge:
    """The purge command's result and what ran or existed just before it."""

    result: Result
    pids: dict[str, int]
    accounts: list[tuple[str, str]]


@pytest.fixture(scope="module")
def purged(node: Node, settings: Settings) -> Purge:
    """Purge every package under check, once for the module."""
    units: list[Unit] = [u for p in settings.packages for u in p.units]
    pids = {u.name: pid for u in units if (pid := node.init.main_pid(u.name)) is not None}
    accounts: list[tuple[str, str]] = []
    created = node.host.file(CREATED_ACCOUNTS)
    if created.exists:
        accounts = [(kind, name) for kind, name in
                    (line.split() for line in created.content_string.splitlines() if line)]
    node.init.stop_for_removal([u.name for u in units])
    return Purge(node.ops.purge(node.host, [p.name for p in settings.packages]), pids, accounts)


def test_purge_succeeds(purged: Purge) -> None:
    result = purged.result
    assert result.ok, f"purge failed (exit {result.exit}):\n{result.stdout}"


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
    user = process_user(node.commands, pid)
    assert user is None, f"{unit.name} (pid {pid}, user {user}) still runs after purge"


def test_purge_leaves_no_process_of_the_venv(node: Node, package: Package,
                                              purged: Purge) -> None:
    """Nothing runs from the virtualenv any more: no worker of a pool unit outlives it."""
    # "[/]opt/..." matches the path but not this command's own command line.
    left = node.host.run("pgrep -a -f %s", f"[{package.venv[0]}]{package.venv[1:]}/bin/")
    assert not left.stdout.strip(), f"still running after purge:\n{left.stdout}"


def test_purge_disables_unit(node: Node, unit: Unit, purged: Purge) -> None:
    links = node.host.run("find /etc/systemd/system -name %s", f"{unit.name}.service")
    assert not links.stdout.split(), f"{unit.name} is still enabled: {links.stdout.split()}"


def test_purge_frees_port(node: Node, port: int, purged: Purge) -> None:
    socket = node.host.socket(f"tcp://127.0.0.1:{port}")
    assert not socket.is_listening, f"port {port} still listening after purge"
