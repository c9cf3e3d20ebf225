"""What the environment and the command line say about a run of the suite (see
conftest.py for the variables): checked once, at start, with one clear error when wrong."""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import cast, get_args

import pytest
import testinfra
from testinfra.host import Host
from tests.infra import facts
from tests.infra.facts import Package

from st2pkg.config import resolve
from st2pkg.distros import Catalog, Format
from st2pkg.errors import ConfigError
from st2pkg.inits import INIT_NAMES, InitName
from st2pkg.recipes import known


@dataclass(frozen=True)
class Settings:
    """What the environment and the command line say about the run."""

    hosts: tuple[str, ...]
    packages: tuple[Package, ...]
    packages_from: str
    format: Format | None
    init: InitName | None
    mongodb: str | None
    purge: bool


def _env_choice(name: str, allowed: Iterable[str]) -> str | None:
    value = os.environ.get(name, "")
    if value and value not in allowed:
        raise pytest.UsageError(f"{name}={value!r}: must be one of {', '.join(allowed)}")
    return value or None


def _testinfra_host(config: pytest.Config, spec: str) -> Host:
    """A host built from the same options testinfra's plugin uses for the ``host`` fixture."""
    opt = config.option
    return testinfra.get_host(spec, connection=opt.connection, ssh_config=opt.ssh_config,
                              ssh_identity_file=opt.ssh_identity_file, sudo=opt.sudo,
                              sudo_user=opt.sudo_user, ansible_inventory=opt.ansible_inventory,
                              force_ansible=opt.force_ansible)


def _detect_packages(config: pytest.Config, hosts: tuple[str, ...], root: Path) -> list[str]:
    """Recipes whose package every host has installed; they must agree."""
    found: dict[str, list[str]] = {}
    for spec in hosts:
        host = _testinfra_host(config, spec)
        try:
            found[spec] = [name for name in known(root) if host.package(name).is_installed]
        except (AssertionError, RuntimeError) as err:
            raise pytest.UsageError(f"cannot ask {spec} which packages it has ({err}); check "
                                    "--hosts/--ssh-config, or set ST2PKG_PACKAGES") from err
    if len({tuple(names) for names in found.values()}) > 1:
        raise pytest.UsageError(f"the hosts have different st2pkg packages installed ({found}); "
                                "run them one at a time or set ST2PKG_PACKAGES")
    names = next(iter(found.values()))
    if not names:
        raise pytest.UsageError(f"no package of {', '.join(known(root))} is installed on "
                                f"{', '.join(hosts)}: install one first, or set ST2PKG_PACKAGES")
    return names


def load(config: pytest.Config) -> Settings:
    """The settings of this pytest run; pytest.UsageError on bad input."""
    hosts = tuple(h for h in (config.option.hosts or "").split(",") if h)
    purge = _env_choice("ST2PKG_PURGE", ("0", "1")) == "1"
    fmt = cast(Format | None, _env_choice("ST2PKG_FORMAT", get_args(Format)))
    init = cast(InitName | None, _env_choice("ST2PKG_INIT", INIT_NAMES))
    try:
        root = resolve(Catalog.load()).recipes_dir
    except ConfigError as err:
        raise pytest.UsageError(f"st2pkg options: {err}") from err
    listed = [n.strip() for n in os.environ.get("ST2PKG_PACKAGES", "").split(",") if n.strip()]
    source = "ST2PKG_PACKAGES"
    if not listed and hosts and not config.option.help:
        listed, source = _detect_packages(config, hosts, root), "installed on the node"
    try:
        packages = tuple(facts.load(name, root) for name in listed)
    except ConfigError as err:
        raise pytest.UsageError(f"ST2PKG_PACKAGES: {err}") from err
    return Settings(hosts, packages, source, fmt, init, os.environ.get("ST2PKG_MONGODB"), purge)
