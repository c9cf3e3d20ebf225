"""The testinfra suite that verifies installed st2pkg packages on a test node.

The pipeline (st2pkg's verify stage) runs it once per distro:

    python -m pytest tests/infra --hosts=ssh://<distro>-test --ssh-config=<run>/ssh_config ...

Standalone, against nodes of `invoke up` with packages installed by hand:

    pytest tests/infra --hosts=ssh://bookworm-test --ssh-config=.st2pkg/runs/<id>/ssh_config

Environment (each optional; the default is found out on the node):
  ST2PKG_PACKAGES  recipes installed, comma-separated (default: every recipe whose package
                   the node has installed). Recipes are read from st2pkg's recipes_dir
                   (packaging/, or ST2PKG_RECIPES_DIR / the config file, as for the build)
  ST2PKG_FORMAT    deb | rpm (default: the node's package manager)
  ST2PKG_INIT      systemd | plain (default: /etc/st2pkg-init-mode, written by node-entry)
  ST2PKG_MONGODB   empty: MongoDB is part of the run; else why it is not (its checks are
                   skipped with that reason). Unset: part of the run when host mongodb resolves
  ST2PKG_PURGE     1: also run the destructive purge checks (test_purge.py), after all others.
                   Otherwise they are deselected. The pipeline runs `-k "not purge"`, then
                   `-k purge` with ST2PKG_PURGE=1; `pytest tests/infra/test_purge.py` works too.
"""

from __future__ import annotations

import configparser
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pytest
from testinfra.host import Host
from tests.infra.facts import Package
from tests.infra.node import PACKAGE_OPS, HostCommands, Node, detect_format
from tests.infra.settings import Settings
from tests.infra.settings import load as settings_of_run

from st2pkg.inits import detect, init_mode

PURGE_MARK = "purge"
NOT_APPLICABLE_MARK = "not_applicable"
SSH_CONNECTIONS = ("ssh", "safe-ssh")
COMPLETION_DIR = "/etc/bash_completion.d/"
SSH_SCHEMES = tuple(f"{c}://" for c in SSH_CONNECTIONS)
_SETTINGS = pytest.StashKey[Settings]()
_SSH_WORK = pytest.StashKey[tuple[str, Path]]()


def _share_ssh_connections(config: pytest.Config) -> None:
    """testinfra's ssh backend asks for ControlMaster=auto but names no ControlPath, so every
    command would open a new SSH connection (~0.3 s each, hundreds of commands). Use a copy
    of --ssh-config that adds one, in a private directory removed at the end."""
    original = config.option.ssh_config
    hosts = [h for h in (config.option.hosts or "").split(",") if h]
    uses_ssh = all(h.startswith(SSH_SCHEMES) or ("://" not in h and config.option.connection
                                                 in SSH_CONNECTIONS) for h in hosts)
    if not original or not hosts or not uses_ssh:
        return
    work = Path(tempfile.mkdtemp(prefix="st2pkg-infra-"))
    shared = work / "ssh_config"
    shared.write_text(f'Include "{Path(original).resolve()}"\nHost *\n'
                      f'  ControlPath {work}/%C\n', encoding="utf-8")
    config.option.ssh_config = str(shared)
    config.stash[_SSH_WORK] = (original, work)


def pytest_unconfigure(config: pytest.Config) -> None:
    if _SSH_WORK not in config.stash:
        return
    original, work = config.stash[_SSH_WORK]
    config.option.ssh_config = original
    for spec in config.stash[_SETTINGS].hosts:
        name = spec.split("://", 1)[-1].split("?", 1)[0]
        subprocess.run(["ssh", "-F", str(work / "ssh_config"), "-O", "exit", name],
                       capture_output=True, check=False)
    shutil.rmtree(work, ignore_errors=True)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", f"{PURGE_MARK}: destructive purge checks, run last and "
                            "only with ST2PKG_PURGE=1")
    config.addinivalue_line("markers", f"{NOT_APPLICABLE_MARK}: a check of facts the installed "
                            "packages do not have (e.g. units of st2client); deselected")
    _share_ssh_connections(config)
    config.stash[_SETTINGS] = settings_of_run(config)


def pytest_report_header(config: pytest.Config) -> list[str]:
    settings = config.stash[_SETTINGS]
    names = ", ".join(p.name for p in settings.packages) or "(none)"
    return [f"st2pkg packages: {names} ({settings.packages_from}); format: "
            f"{settings.format or 'from the node'}; init: {settings.init or 'from the node'}; "
            f"purge checks: {'selected' if settings.purge else 'deselected (ST2PKG_PURGE=1)'}; "
            "checks of facts these packages do not have: deselected"]


def _binder(package: Package, port: int) -> str:
    return next((u.name for u in package.units if port in u.ports), "no-unit")


# Parametrized arguments: the rows of each installed package's facts they run over.
ROWS: dict[str, Callable[[Package], Iterable[tuple[Any, str]]]] = {
    "link": lambda p: ((link, link) for link in p.links),
    "unit": lambda p: ((u, u.name) for u in p.units),
    "pool": lambda p: ((u, u.name) for u in p.units if u.workers),
    "source_file": lambda p: ((s, s.path) for s in p.source_files),
    "shared_tree": lambda p: ((s, s.path) for s in p.source_files if s.group),
    "completion": lambda p: ((s.path, s.path) for s in p.source_files
                             if s.path.startswith(COMPLETION_DIR)),
    "owned_dir": lambda p: ((d, d.path) for d in p.dirs),
    "runtime_dir": lambda p: ((d, d.path) for d in p.runtime_dirs),
    "file_fact": lambda p: ((f, f.path) for f in p.files),
    "logrotate_conf": lambda p: ((f.path, f.path) for f in p.files
                                 if f.path.startswith("/etc/logrotate.d/")),
    "writable": lambda p: ((w, f"{w[0]}:{w[1]}") for w in p.writable),
    # Named after the unit that binds it too, so a broken service fails under its own name.
    "port": lambda p: ((n, f"{_binder(p, n)}:{n}") for n in p.ports),
    "removable": lambda p: ((path, path) for path in p.removable_paths),
    "accounts": lambda p: [(p.accounts, "accounts")] if p.accounts else [],
    "server": lambda p: [(p, "server")] if p.units else [],
}


MODULE_ROWS = ("server",)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    packages = metafunc.config.stash[_SETTINGS].packages
    names = [name for name in ROWS if name in metafunc.fixturenames]
    if not names:
        if "package" in metafunc.fixturenames:
            metafunc.parametrize("package", packages, ids=[p.name for p in packages])
        return
    (name,) = names
    rows = [(p, value, f"{p.name}:{ident}") for p in packages for value, ident in ROWS[name](p)]
    with_package = "package" in metafunc.fixturenames
    argnames = ["package", name] if with_package else [name]
    if not rows:
        # Not a skipped check but no check at all: deselected (see below).
        metafunc.parametrize(argnames, [pytest.param(*([None] * len(argnames)),
                                                     marks=pytest.mark.not_applicable)])
        return
    values = [(p, v) if with_package else (v,) for p, v, _ in rows]
    # Module scope: module fixtures (test_cli's `registered`) may depend on these rows.
    metafunc.parametrize(argnames, values, ids=[ident for _, _, ident in rows],
                         scope="module" if name in MODULE_ROWS else None)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    settings = config.stash[_SETTINGS]
    ours = [i for i in items if i.path.is_relative_to(config.rootpath / "tests" / "infra")]
    if ours and not settings.hosts:
        skip = pytest.mark.skip(reason="tests/infra checks a test node: pass --hosts=ssh://"
                                "<distro>-test --ssh-config=.st2pkg/runs/<id>/ssh_config")
        for item in ours:
            item.add_marker(skip)
    moot = [i for i in items if i.get_closest_marker(NOT_APPLICABLE_MARK)]
    purge = [i for i in items if i.get_closest_marker(PURGE_MARK) and i not in moot]
    rest = [i for i in items if i not in moot and i not in purge]
    deselected = moot if settings.purge else moot + purge
    if deselected:
        config.hook.pytest_deselected(items=deselected)
    items[:] = rest + purge if settings.purge else rest


@pytest.fixture(scope="module")
def settings(request: pytest.FixtureRequest) -> Settings:
    return request.config.stash[_SETTINGS]


@pytest.fixture(scope="module")
def node(host: Host, settings: Settings) -> Node:
    mongodb = settings.mongodb
    if mongodb is None and host.run("getent hosts mongodb").rc != 0:
        mongodb = ("ST2PKG_MONGODB is not set and host mongodb does not resolve on the node: "
                   "no MongoDB in this run")
    commands = HostCommands(host)
    init = init_mode(settings.init or detect(commands), commands)
    return Node(host, commands, PACKAGE_OPS[settings.format or detect_format(host)], init,
                mongodb or None)


@pytest.fixture(scope="module")
def database(node: Node) -> str:
    """The database st2.conf points the services at (postgres or mongodb); skips the check
    when that is MongoDB and the run has none."""
    conf = configparser.ConfigParser(interpolation=None)
    conf.read_string(node.host.file("/etc/st2/st2.conf").content_string)
    if conf.get("database", "port", fallback="27017") == "5432":
        return "postgres"
    node.require_mongodb()
    return "mongodb"
