"""The test node as the checks see it: its package format and init mode (each difference
behind one small class), and helpers that read processes, scripts and logs on it."""

from __future__ import annotations

import dataclasses
import shlex
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from testinfra.host import Host
from tests.infra.facts import Unit

from st2pkg.distros import Format
from st2pkg.formats import FORMATS

INIT_MODE_FILE = "/etc/st2pkg-init-mode"
UNITS_STATE = "/run/st2pkg-units"
UNITS_LOGS = "/var/log/st2pkg-units"
# Where the verify stage puts packaging/scripts on the node.
START_UNITS = "/opt/st2pkg/scripts/start-units"
TAIL = 30
INITS = ("systemd", "plain")


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

    def purge(self, names: list[str]) -> str:
        return FORMATS[self.format].purge(names)

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


def process_user(host: Host, pid: int) -> str | None:
    """The user of live process ``pid`` (None when it is gone or a zombie)."""
    result = host.run("ps -o user=,stat= -p %s", str(pid))
    words = str(result.stdout).split()
    if result.rc != 0 or len(words) < 2 or words[1].startswith("Z"):
        return None
    return words[0]


def tail(host: Host, path: str, lines: int = TAIL) -> str:
    result = host.run("tail -n %s %s", str(lines), path)
    body = result.stdout.rstrip() if result.rc == 0 else f"(cannot read: {result.stderr.strip()})"
    return f"--- {path} (last {lines} lines) ---\n{body}"


class Init(ABC):
    """How services are run on the node: systemd, or st2pkg's start-units fallback. The one
    place where the two differ for the checks."""

    name = ""

    def __init__(self, host: Host) -> None:
        self.host = host

    @abstractmethod
    def main_pid(self, unit: Unit) -> int | None:
        """The unit's main process, when it runs."""

    @abstractmethod
    def logs(self, unit: Unit) -> str:
        """The tail of what the unit logged, for failure messages."""

    @abstractmethod
    def stop_for_removal(self, units: list[Unit]) -> None:
        """Stop what the package's own removal cannot stop under this init."""

    @abstractmethod
    def restart(self, unit: Unit) -> str | None:
        """Restart ``unit`` (after a change of its configuration); why not, when it could not."""

    @abstractmethod
    def worker_problems(self, unit: Unit, count: int) -> list[str]:
        """Why the pool ``unit`` does not run ``count`` workers as their User=."""

    def running_problem(self, unit: Unit) -> str | None:
        """Why ``unit`` is not running as its User= (None when it is)."""
        pid = self.main_pid(unit)
        if pid is None:
            return f"{unit.name} is not running (init {self.name})\n{self.logs(unit)}"
        user = process_user(self.host, pid)
        if user != unit.user:
            return (f"{unit.name}: main process {pid} runs as {user!r}, not User={unit.user}"
                    f"\n{self.logs(unit)}")
        return None


class SystemdInit(Init):
    """systemd is PID 1: units are what systemctl says they are."""

    name = "systemd"

    def main_pid(self, unit: Unit) -> int | None:
        if not self.host.service(unit.name).is_running:
            return None
        pid = self.host.check_output("systemctl show -p MainPID --value %s", unit.name)
        return int(pid) if pid.isdigit() and int(pid) > 0 else None

    def running_problem(self, unit: Unit) -> str | None:
        problem = super().running_problem(unit)
        if problem:
            return problem
        # Restart=on-failure hides a service that keeps crashing: "active" between crashes.
        restarts = self.host.check_output("systemctl show -p NRestarts --value %s", unit.name)
        if restarts not in ("", "0"):
            return f"{unit.name} runs but systemd restarted it {restarts} times\n{self.logs(unit)}"
        return None

    def restart(self, unit: Unit) -> str | None:
        result = self.host.run("systemctl restart %s", unit.name)
        return None if result.rc == 0 else f"systemctl restart {unit.name}: {result.stderr}"

    def worker_problems(self, unit: Unit, count: int) -> list[str]:
        """Each worker is a unit of its own, UNIT@1 .. UNIT@count."""
        workers = (dataclasses.replace(unit, name=f"{unit.name}@{n}", user=unit.worker_user,
                                       workers=0) for n in range(1, count + 1))
        return [p for p in map(self.running_problem, workers) if p]

    def logs(self, unit: Unit) -> str:
        journal = self.host.run("journalctl -u %s -n %s --no-pager", unit.name, str(TAIL))
        return (f"--- journalctl -u {unit.name} -n {TAIL} ---\n"
                f"{(journal.stdout + journal.stderr).rstrip()}\n"
                f"{tail(self.host, f'/var/log/st2/{unit.name}.log')}")

    def stop_for_removal(self, units: list[Unit]) -> None:
        """Nothing: the package's prerm stops its units through systemd (that is checked)."""


class PlainInit(Init):
    """No systemd as PID 1: packaging/scripts/start-units started the units and left a pid
    file per unit in /run/st2pkg-units and its output in /var/log/st2pkg-units."""

    name = "plain"

    def main_pid(self, unit: Unit) -> int | None:
        result = self.host.run("cat %s", f"{UNITS_STATE}/{unit.name}.pid")
        text = result.stdout.strip()
        if result.rc != 0 or not text.isdigit():
            return None
        pid = int(text)
        return pid if process_user(self.host, pid) is not None else None

    def restart(self, unit: Unit) -> str | None:
        """Stop the unit's main process, then start it again with start-units (where the
        verify stage put it)."""
        if not self.host.file(START_UNITS).exists:
            return f"no {START_UNITS} on the node to start {unit.name} with"
        self.stop_for_removal([unit])
        result = self.host.run("%s %s", START_UNITS, unit.name)
        return None if result.rc == 0 else f"start-units {unit.name}: {result.stderr}"

    def worker_problems(self, unit: Unit, count: int) -> list[str]:
        """The workers are children of the pool's main process (st2-workers)."""
        pid = self.main_pid(unit)
        if pid is None:
            return [f"{unit.name} is not running (init {self.name})\n{self.logs(unit)}"]
        listed = self.host.run("ps -o user=,args= --ppid %s", str(pid)).stdout.splitlines()
        program = f"/{unit.worker_program} "
        users = [line.split()[0] for line in listed if program in f"{line} "]
        if len(users) != count or set(users) != {unit.worker_user}:
            return [f"{unit.name} (pid {pid}) runs {len(users)} {unit.worker_program} workers "
                    f"as {sorted(set(users))}, not {count} as {unit.worker_user}\n"
                    f"{self.logs(unit)}"]
        return []

    def logs(self, unit: Unit) -> str:
        return (f"{tail(self.host, f'{UNITS_LOGS}/{unit.name}.log')}\n"
                f"{tail(self.host, f'/var/log/st2/{unit.name}.log')}")

    def stop_for_removal(self, units: list[Unit]) -> None:
        """Stop what start-units started, as the prerm's `systemctl stop` does under systemd:
        without systemd the package cannot reach these processes."""
        pids = [str(pid) for pid in map(self.main_pid, units) if pid is not None]
        if not pids:
            return
        quoted = " ".join(shlex.quote(p) for p in pids)
        self.host.run(f"kill -TERM {quoted}; for _ in $(seq 60); do "
                      f"kill -0 {quoted} 2>/dev/null || exit 0; sleep 0.5; done; "
                      f"kill -KILL {quoted}")


INIT_CLASSES: dict[str, type[Init]] = {"systemd": SystemdInit, "plain": PlainInit}


def make_init(host: Host, name: str) -> Init:
    """The Init of mode ``name`` (systemd or plain) on ``host``."""
    return INIT_CLASSES[name](host)


def detect_init(host: Host) -> str:
    """systemd or plain: what the node's entry script recorded, else whether systemd booted."""
    recorded = host.file(INIT_MODE_FILE)
    if not recorded.exists:
        return "systemd" if host.file("/run/systemd/system").is_directory else "plain"
    mode = str(recorded.content_string).strip()
    if mode not in INITS:
        raise RuntimeError(f"{INIT_MODE_FILE} says {mode!r}, not one of {', '.join(INITS)}")
    return mode


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
    """The test node under check: its host, package format and init mode."""

    host: Host
    ops: PackageOps
    init: Init
    mongodb_missing: str | None

    def require_mongodb(self) -> None:
        """Skip (never pass) a check that needs MongoDB when the run has none."""
        if self.mongodb_missing is not None:
            pytest.skip(f"MongoDB unavailable: {self.mongodb_missing}")
