"""The one dispatch point for init-mode differences: how units are started, checked, logged,
restarted and stopped on a test node under systemd (PID 1) or under st2pkg's fallback
"plain" (packaging/scripts/start-units supervises each unit's main process). Everything
else asks ``init_mode(name, node)``; the verify stage and the testinfra suite share these
classes, each through its own ``Commands``."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Literal, get_args

from .errors import StageError
from .remote import Commands

InitName = Literal["systemd", "plain"]
INIT_NAMES: tuple[InitName, ...] = get_args(InitName)
# Build nodes start no units: sshd alone is their PID 1.
BUILD_INIT: InitName = "plain"
# What node-entry (distros/images/node) records as the mode the node booted with.
INIT_MODE_FILE = "/etc/st2pkg-init-mode"
# Where the verify stage puts packaging/scripts on a test node.
SCRIPTS = "/opt/st2pkg/scripts"
START_UNITS = f"{SCRIPTS}/start-units"
# start-units' state (UNIT.pid: the live main process, UNIT.restarts) and unit output.
UNITS_STATE = "/run/st2pkg-units"
UNITS_LOGS = "/var/log/st2pkg-units"
# Where st2's services log by themselves (logging.<service>.conf), shown beside the init's.
SERVICE_LOGS = "/var/log/st2"
TAIL = 30
# start-units' exit code for input it refuses (anything else: units it could not keep up).
BAD_INPUT = 2


def process_user(node: Commands, pid: int) -> str | None:
    """The user of live process ``pid`` (None when it is gone or a zombie)."""
    result = node.run("ps -o user=,stat= -p %s", str(pid), check=False)
    words = result.stdout.split()
    if not result.ok or len(words) < 2 or words[1].startswith("Z"):
        return None
    return words[0]


def tail(node: Commands, path: str, lines: int = TAIL) -> str:
    """The last ``lines`` of a file on the node, headed by its name."""
    result = node.run("tail -n %s %s 2>&1", str(lines), path, check=False)
    body = result.stdout.rstrip() if result.ok else f"(cannot read: {result.stdout.strip()})"
    return f"--- {path} (last {lines} lines) ---\n{body}"


class InitMode(ABC):
    """How units run on a node; subclasses hold what differs between the modes."""

    name: InitName
    # The mode a node is restarted with when this one cannot boot (test_init=auto).
    fallback: InitName | None = None
    # Whether systemctl manages the units, as st2ctl and the packages' maintainer scripts
    # (prerm's `systemctl stop`) expect.
    systemctl = True

    def __init__(self, node: Commands) -> None:
        self.node = node

    def boot_problem(self) -> str | None:
        """Why the node did not come up under this mode (None when it did)."""
        return None

    @abstractmethod
    def start(self, units: Sequence[str]) -> None:
        """Enable and (re)start ``units``; whether each then runs is for running_problem."""

    @abstractmethod
    def stop(self, units: Sequence[str]) -> None:
        """Stop ``units`` for good (no restart policy brings them back)."""

    @abstractmethod
    def restart(self, unit: str) -> str | None:
        """Restart ``unit`` (after a change of its configuration); why not, when it failed."""

    @abstractmethod
    def main_pid(self, unit: str) -> int | None:
        """The unit's live main process, when it runs."""

    @abstractmethod
    def restarts(self, unit: str) -> int:
        """How often the unit's restart policy has restarted it since it was started."""

    @abstractmethod
    def own_logs(self, unit: str) -> str:
        """The tail of what this init captured of the unit's output."""

    @abstractmethod
    def worker_problems(self, unit: str, count: int, program: str, user: str) -> list[str]:
        """Why the pool ``unit`` does not run ``count`` ``program`` workers as ``user``."""

    def logs(self, unit: str) -> str:
        """The tail of what the unit logged, for failure messages."""
        return f"{self.own_logs(unit)}\n{tail(self.node, f'{SERVICE_LOGS}/{unit}.log')}"

    def running_problem(self, unit: str, user: str | None = None) -> str | None:
        """Why ``unit`` is not running (as ``user``, when given); None when it is. A unit its
        restart policy restarted counts as not running: a crash loop looks alive between
        crashes."""
        pid = self.main_pid(unit)
        if pid is None:
            return f"{unit} is not running (init {self.name})\n{self.logs(unit)}"
        restarts = self.restarts(unit)
        if restarts:
            return (f"{unit} runs but init {self.name} restarted it {restarts} times\n"
                    f"{self.logs(unit)}")
        actual = process_user(self.node, pid) if user is not None else None
        if user is not None and actual != user:
            return (f"{unit}: main process {pid} runs as {actual!r}, not User={user}\n"
                    f"{self.logs(unit)}")
        return None

    def stop_for_removal(self, units: Sequence[str]) -> None:
        """Stop what the package's own removal cannot stop under this init."""
        if not self.systemctl:
            self.stop(units)


def _number(text: str) -> int | None:
    text = text.strip()
    return int(text) if text.isdigit() else None


class SystemdInit(InitMode):
    """systemd is PID 1: units are what systemctl says they are."""

    name: InitName = "systemd"
    fallback: InitName | None = "plain"

    def boot_problem(self) -> str | None:
        state = self.node.run("timeout 60 systemctl is-system-running --wait", check=False)
        said = state.stdout.strip()
        return None if said in ("running", "degraded") else f"systemd says {said!r}"

    def start(self, units: Sequence[str]) -> None:
        self.node.run("systemctl daemon-reload", what="systemctl daemon-reload")
        self.node.run("systemctl enable %s", units, what="systemctl enable")
        # A unit that fails to start is reported by running_problem, with its journal.
        self.node.run("systemctl restart %s", units, check=False)

    def stop(self, units: Sequence[str]) -> None:
        self.node.run("systemctl stop %s", units, what="systemctl stop")

    def restart(self, unit: str) -> str | None:
        done = self.node.run("systemctl restart %s 2>&1", unit, check=False)
        return None if done.ok else f"systemctl restart {unit}: {done.stdout.strip()}"

    def main_pid(self, unit: str) -> int | None:
        if not self.node.run("systemctl is-active --quiet %s", unit, check=False).ok:
            return None
        pid = _number(self.node.run("systemctl show -p MainPID --value %s", unit,
                                    check=False).stdout)
        return pid or None

    def restarts(self, unit: str) -> int:
        shown = self.node.run("systemctl show -p NRestarts --value %s", unit, check=False)
        return _number(shown.stdout) or 0

    def own_logs(self, unit: str) -> str:
        journal = self.node.run("journalctl -u %s -n %s --no-pager 2>&1", unit, str(TAIL),
                                check=False)
        return f"--- journalctl -u {unit} -n {TAIL} ---\n{journal.stdout.rstrip()}"

    def worker_problems(self, unit: str, count: int, program: str, user: str) -> list[str]:
        """Each worker is a unit of its own, UNIT@1 .. UNIT@count."""
        found = (self.running_problem(f"{unit}@{n}", user) for n in range(1, count + 1))
        return [problem for problem in found if problem]


class PlainInit(InitMode):
    """No systemd as PID 1: start-units (where the verify stage put it) supervises each
    unit, leaving UNIT.pid (the live main process) and UNIT.restarts in UNITS_STATE and the
    unit's output in UNITS_LOGS/UNIT.log."""

    name: InitName = "plain"
    systemctl = False

    def start(self, units: Sequence[str]) -> None:
        # The caller settles and checks each unit itself.
        done = self.node.run("ST2PKG_UNITS_SETTLE=0 %s %s", START_UNITS, units, check=False)
        if done.exit == BAD_INPUT:
            raise StageError(f"start-units refused the units {', '.join(units)} "
                             f"(exit {done.exit}): see the start log")

    def stop(self, units: Sequence[str]) -> None:
        self.node.run("%s --stop %s", START_UNITS, units, what="start-units --stop")

    def restart(self, unit: str) -> str | None:
        if not self.node.run("test -x %s", START_UNITS, check=False).ok:
            return f"no {START_UNITS} on the node to restart {unit} with"
        done = self.node.run("%s --stop %s 2>&1 && ST2PKG_UNITS_SETTLE=0 %s %s 2>&1",
                             START_UNITS, unit, START_UNITS, unit, check=False)
        return None if done.ok else f"start-units {unit} (exit {done.exit}): {done.stdout}"

    def main_pid(self, unit: str) -> int | None:
        pid = _number(self.node.run("cat %s 2>/dev/null", f"{UNITS_STATE}/{unit}.pid",
                                    check=False).stdout)
        return pid if pid and process_user(self.node, pid) is not None else None

    def restarts(self, unit: str) -> int:
        counted = self.node.run("cat %s 2>/dev/null", f"{UNITS_STATE}/{unit}.restarts",
                                check=False)
        return _number(counted.stdout) or 0

    def own_logs(self, unit: str) -> str:
        return tail(self.node, f"{UNITS_LOGS}/{unit}.log")

    def worker_problems(self, unit: str, count: int, program: str, user: str) -> list[str]:
        """The workers are children of the pool's main process (st2-workers)."""
        pid = self.main_pid(unit)
        if pid is None:
            return [f"{unit} is not running (init {self.name})\n{self.logs(unit)}"]
        listed = self.node.run("ps -o user=,args= --ppid %s", str(pid), check=False)
        users = [line.split()[0] for line in listed.stdout.splitlines()
                 if f"/{program} " in f"{line} "]
        if len(users) != count or set(users) != {user}:
            return [f"{unit} (pid {pid}) runs {len(users)} {program} workers as "
                    f"{sorted(set(users))}, not {count} as {user}\n{self.logs(unit)}"]
        return []


INIT_CLASSES: dict[InitName, type[InitMode]] = {"systemd": SystemdInit, "plain": PlainInit}


def init_mode(name: InitName, node: Commands) -> InitMode:
    """The init mode ``name`` on the node that ``node`` runs commands on."""
    return INIT_CLASSES[name](node)


def detect(node: Commands) -> InitName:
    """The node's mode: what node-entry recorded, else whether systemd booted."""
    recorded = node.run("cat %s 2>/dev/null", INIT_MODE_FILE, check=False)
    if not recorded.ok:
        booted = node.run("test -d /run/systemd/system", check=False).ok
        return "systemd" if booted else "plain"
    return parse_name(recorded.stdout.strip(), INIT_MODE_FILE)


def parse_name(text: str, where: str) -> InitName:
    """``text`` as an init name; ValueError naming ``where`` otherwise."""
    for name in INIT_NAMES:
        if text == name:
            return name
    raise ValueError(f"{where} says {text!r}, not one of {', '.join(INIT_NAMES)}")


def preferred(option: str) -> InitName:
    """The mode a test node first boots with under the test_init option (auto: systemd,
    falling back when it cannot boot)."""
    return "systemd" if option == "auto" else parse_name(option, "test_init")


def fallback(option: str, failed: InitName) -> InitName | None:
    """The mode to restart a node with whose ``failed`` mode could not boot: None when that
    mode has none; StageError when the test_init option pinned it."""
    then = INIT_CLASSES[failed].fallback
    if then is not None and option == failed:
        raise StageError(f"{failed} cannot boot in this container runtime and "
                         f"test_init={option}; use test_init=auto or {then}")
    return then
