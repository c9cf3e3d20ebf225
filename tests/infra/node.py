"""The test node as the checks see it: its package format and init mode (each difference
behind one small class; the init modes are st2pkg's own, st2pkg.inits, driven through
HostCommands), and helpers that read scripts on it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from testinfra.host import Host
from tests.infra.facts import Unit

from st2pkg.distros import Format
from st2pkg.formats import FORMATS
from st2pkg.inits import InitMode
from st2pkg.remote import Arg, Result, render


@dataclass(frozen=True)
class PackageOps:
    """Package-format differences the checks need: st2pkg's own purge command, plus which
    package owns each path. Whether a package is installed goes through testinfra's
    ``host.package``, which dispatches on the node's package manager itself."""

    format: Format
    owner_query: str
    parse_owners: Callable[[list[str], str], dict[str, set[str]]]
    # Where the units' EnvironmentFile= lives.
    env_dir: str
    # Prints the package's configuration files (conffiles, %config), one a line.
    config_query: str
    # Prints what the package depends on; parse_depends makes it groups of alternatives.
    depends_query: str
    parse_depends: Callable[[str], list[list[str]]]
    # Succeeds when a package (or, for rpm, a capability) of that name is installed.
    installed_query: str
    # Prints every path the package ships, one a line.
    files_query: str
    # Installs a package file over the installed package, as an upgrade would.
    reinstall_query: str
    # The file name of package NAME's build (shell glob; {name} is NAME).
    artifact_glob: str

    def owners(self, host: Host, paths: list[str]) -> dict[str, set[str]]:
        """The packages owning each of ``paths`` (an empty set when none does)."""
        result = host.run(f"{self.owner_query} {' '.join(['%s'] * len(paths))}", *paths)
        found = self.parse_owners(paths, str(result.stdout))
        return {path: found.get(path, set()) for path in paths}

    def purge(self, host: Host, names: list[str]) -> Result:
        """Purge (rpm: erase) the packages; the result of the package manager."""
        return FORMATS[self.format].purge(HostCommands(host), names)

    def config_files(self, host: Host, name: str) -> set[str]:
        """What the package manager keeps as package ``name``'s configuration files."""
        listed = host.check_output(self.config_query, name)
        return {line.split()[0] for line in listed.splitlines() if line.strip()}

    def etc_files(self, host: Host, name: str) -> set[str]:
        """The files (not directories) package ``name`` ships under /etc."""
        listed = host.check_output(f"{self.files_query} | grep '^/etc/' | while read -r p; do "
                                   "[ -d \"$p\" ] || echo \"$p\"; done", name)
        return set(listed.splitlines())

    def missing_depends(self, host: Host, name: str) -> list[str]:
        """The dependencies of installed package ``name`` that no installed package meets."""
        groups = self.parse_depends(host.check_output(self.depends_query, name))
        return [" | ".join(group) for group in groups
                if not any(host.run(self.installed_query, alt).rc == 0 for alt in group)]


def _dpkg_owners(paths: list[str], output: str) -> dict[str, set[str]]:
    """``dpkg-query -S`` lines: "pkg1, pkg2: /path" (diversion lines have no such form)."""
    found: dict[str, set[str]] = {}
    for line in output.splitlines():
        names, sep, path = line.partition(": ")
        if sep and path in paths:
            found.setdefault(path, set()).update(n.strip() for n in names.split(","))
    return found


def _rpm_owners(paths: list[str], output: str) -> dict[str, set[str]]:
    """Lines "path<TAB>name name ..." of the rpm query loop (no names: not owned)."""
    found: dict[str, set[str]] = {}
    for line in output.splitlines():
        path, _, names = line.partition("\t")
        if path in paths and names.split():
            found[path] = set(names.split())
    return found


# One rpm query per path (a path several packages own prints one line for each).
RPM_OWNERS = ("sh -c 'for p; do printf \"%%s\\t\" \"$p\"; "
              "rpm -qf --qf \"%%{NAME} \" \"$p\" 2>/dev/null | grep -v \" is not owned\"; "
              "echo; done' owners")


def _deb_depends(field: str) -> list[list[str]]:
    """A Depends field: "a (>= 1), b | c:any" -> [["a"], ["b", "c"]]."""
    return [[alt.split()[0].split(":")[0] for alt in entry.split("|")]
            for entry in field.split(",") if entry.strip()]


def _rpm_depends(listing: str) -> list[list[str]]:
    """rpm -q --requires lines, without rpmlib(), file and shared library requirements."""
    names = (line.split()[0] for line in listing.splitlines() if line.strip())
    return [[name] for name in names if "(" not in name and not name.startswith("/")]


PACKAGE_OPS: dict[Format, PackageOps] = {
    "deb": PackageOps(
        "deb", owner_query="dpkg-query -S", parse_owners=_dpkg_owners, env_dir="/etc/default",
        config_query="dpkg-query --control-show %s conffiles",
        depends_query="dpkg-query -W -f='${Depends}' %s", parse_depends=_deb_depends,
        installed_query="dpkg-query -W -f='${db:Status-Status}' %s | grep -qx installed",
        files_query="dpkg-query -L %s", reinstall_query="dpkg -i %s",
        artifact_glob="{name}_*.deb"),
    "rpm": PackageOps(
        "rpm", owner_query=RPM_OWNERS, parse_owners=_rpm_owners, env_dir="/etc/sysconfig",
        config_query="rpm -qc %s", depends_query="rpm -q --requires %s",
        parse_depends=_rpm_depends, installed_query="rpm -q --whatprovides %s",
        files_query="rpm -ql %s", reinstall_query="rpm -U --replacepkgs %s",
        artifact_glob="{name}-[0-9]*.rpm"),
}


def detect_format(host: Host) -> Format:
    """The node's package format, from the package manager it has."""
    if host.exists("dpkg-query"):
        return "deb"
    if host.exists("rpm"):
        return "rpm"
    raise RuntimeError("the node has neither dpkg-query nor rpm: not a deb or rpm system")


class HostCommands:
    """st2pkg's ``Commands`` over a testinfra host, so the checks drive the same init and
    format classes as the verify stage. The command is rendered (quoted) by st2pkg, so a
    template means the same in both; with ``check`` a failure is an assertion."""

    def __init__(self, host: Host) -> None:
        self.host = host

    def run(self, template: str, *args: Arg, check: bool = True,
            what: str | None = None) -> Result:
        command = render(template, *args)
        done = self.host.run(command)
        if check and done.rc != 0:
            raise AssertionError(f"{what or command} failed (exit {done.rc})\n"
                                 f"{done.stdout}{done.stderr}")
        return Result(done.rc, str(done.stdout))


def is_enabled(host: Host, unit: Unit) -> tuple[bool, str]:
    """``systemctl is-enabled`` of the unit: reads unit files, so it works without systemd
    running as well."""
    result = host.run("systemctl is-enabled %s", f"{unit.name}.service")
    state = (result.stdout + result.stderr).strip()
    return result.rc == 0 and state == "enabled", state


def interpreter_problem(host: Host, script: str, venv: str | None) -> str | None:
    """Why ``script`` cannot run: a #! line whose interpreter is missing, not executable or
    broken; a Python interpreter outside ``venv``; neither #! nor ELF. None when it can."""
    magic = host.run("head -c 4 %s | od -An -tx1", script).stdout.split()
    if magic == ["7f", "45", "4c", "46"]:
        return None
    if magic[:2] != ["23", "21"]:
        return f"{script}: neither a #! script nor an ELF program (starts {' '.join(magic)})"
    words = host.check_output("head -n 1 %s", script)[2:].split()
    if not words:
        return f"{script}: empty #! line"
    interpreter = words[0]
    if interpreter.endswith("/env") and len(words) > 1:
        found = host.run("command -v %s", words[1])
        if found.rc != 0:
            return f"{script}: #!{' '.join(words)}: {words[1]} is not on PATH"
        interpreter = found.stdout.strip()
    real = host.run("readlink -f %s", interpreter).stdout.strip()
    if not real or not host.file(real).is_file or host.run("test -x %s", real).rc != 0:
        return f"{script}: interpreter {interpreter} does not exist or is not executable"
    if "python" in real.rsplit("/", 1)[-1]:
        if venv is not None and not real.startswith(venv + "/"):
            return f"{script}: interpreter {interpreter} -> {real} is not under {venv}"
        probe = host.run("%s -c %s", interpreter, "import sys; print(sys.prefix)")
        if probe.rc != 0:
            return f"{script}: {interpreter} does not run: {probe.stderr.strip()}"
        if venv is not None and probe.stdout.strip() != venv:
            return (f"{script}: {interpreter} runs with sys.prefix {probe.stdout.strip()}, "
                    f"not {venv}")
        return None
    probe = host.run("%s -c :", interpreter)
    if probe.rc != 0:
        return f"{script}: {interpreter} does not run: {probe.stderr.strip()}"
    return None


@dataclass(frozen=True)
class Node:
    """The test node under check: its host, package format and init mode (st2pkg's, run
    through ``commands``)."""

    host: Host
    commands: HostCommands
    ops: PackageOps
    init: InitMode
    mongodb_missing: str | None

    def require_mongodb(self) -> None:
        """Skip (never pass) a check that needs MongoDB when the run has none."""
        if self.mongodb_missing is not None:
            pytest.skip(f"MongoDB unavailable: {self.mongodb_missing}")
