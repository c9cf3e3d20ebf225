"""The init-mode dispatch: which mode a node gets, and what each mode runs on the node to
start, check, log and stop units (a scripted node answers)."""

from __future__ import annotations

import pytest
from tests.fixtures.commands import Scripted

from st2pkg.errors import StageError
from st2pkg.inits import (
    PlainInit,
    SystemdInit,
    detect,
    fallback,
    init_mode,
    preferred,
)

STATE = "/run/st2pkg-units"
START_UNITS = "/opt/st2pkg/scripts/start-units"


def test_dispatch_from_the_option_and_the_node() -> None:
    assert preferred("auto") == "systemd"
    assert preferred("systemd") == "systemd"
    assert preferred("plain") == "plain"
    assert fallback("auto", "systemd") == "plain"
    assert fallback("auto", "plain") is None
    assert fallback("plain", "plain") is None
    with pytest.raises(StageError, match="test_init=systemd; use test_init=auto or plain"):
        fallback("systemd", "systemd")
    with pytest.raises(ValueError, match="test_init says 'sysv'"):
        preferred("sysv")
    assert isinstance(init_mode("systemd", Scripted()), SystemdInit)
    assert isinstance(init_mode("plain", Scripted()), PlainInit)


def test_detect_reads_what_node_entry_recorded() -> None:
    assert detect(Scripted({"cat /etc/st2pkg-init-mode": (0, "plain\n")})) == "plain"
    unrecorded = {"cat /etc/st2pkg-init-mode": (1, "")}
    assert detect(Scripted({**unrecorded, "test -d /run/systemd/system": (0, "")})) == "systemd"
    assert detect(Scripted({**unrecorded, "test -d /run/systemd/system": (1, "")})) == "plain"
    with pytest.raises(ValueError, match="says 'upstart'"):
        detect(Scripted({"cat /etc/st2pkg-init-mode": (0, "upstart\n")}))


def systemd_node(restarts: str = "0", user: str = "st2") -> Scripted:
    return Scripted({"systemctl is-active": (0, ""),
                     "systemctl show -p MainPID": (0, "42\n"),
                     "systemctl show -p NRestarts": (0, f"{restarts}\n"),
                     "ps -o user=,stat= -p 42": (0, f"{user} Ss\n")})


def test_systemd_running_unit() -> None:
    node = systemd_node()
    assert SystemdInit(node).running_problem("st2api", "st2") is None
    assert "systemctl is-active --quiet st2api" in node.commands


def test_systemd_unit_it_restarted_counts_as_not_running() -> None:
    problem = SystemdInit(systemd_node(restarts="3")).running_problem("st2api", "st2")
    assert problem is not None
    assert problem.startswith("st2api runs but init systemd restarted it 3 times")
    assert "journalctl -u st2api -n 30" in problem


def test_systemd_wrong_user_and_stopped_unit() -> None:
    problem = SystemdInit(systemd_node(user="root")).running_problem("st2api", "st2")
    assert problem is not None
    assert "main process 42 runs as 'root', not User=st2" in problem
    stopped = Scripted({"systemctl is-active": (3, "")})
    problem = SystemdInit(stopped).running_problem("st2api")
    assert problem is not None
    assert problem.startswith("st2api is not running (init systemd)")


def test_systemd_start_quotes_units_and_leaves_failures_to_the_checks() -> None:
    node = Scripted({"systemctl restart": (1, "")})
    SystemdInit(node).start(["st2api", "odd name"])
    assert node.commands == ["systemctl daemon-reload", "systemctl enable st2api 'odd name'",
                             "systemctl restart st2api 'odd name'"]
    with pytest.raises(StageError, match="systemctl enable"):
        SystemdInit(Scripted({"systemctl enable": (1, "")})).start(["st2api"])


def test_systemd_boot() -> None:
    boot = "timeout 60 systemctl is-system-running --wait"
    assert SystemdInit(Scripted({boot: (0, "degraded\n")})).boot_problem() is None
    assert SystemdInit(Scripted({boot: (1, "offline\n")})).boot_problem() == (
        "systemd says 'offline'")


def test_systemd_workers_are_units_of_their_own() -> None:
    node = systemd_node(user="root")
    assert SystemdInit(node).worker_problems("st2actionrunner", 2, "st2actionrunner",
                                             "root") == []
    assert "systemctl is-active --quiet st2actionrunner@2" in node.commands


def plain_node(pid: str = "77", restarts: str = "",
               more: dict[str, tuple[int, str]] | None = None) -> Scripted:
    return Scripted({f"cat {STATE}/st2api.pid": (0, pid),
                     f"cat {STATE}/st2api.restarts": (0, restarts) if restarts else (1, ""),
                     "ps -o user=,stat= -p 77": (0, "st2 S\n"), **(more or {})})


def test_plain_running_unit_is_its_live_pid_file() -> None:
    assert PlainInit(plain_node()).running_problem("st2api", "st2") is None
    gone = plain_node(more={"ps -o user=,stat= -p 77": (1, "")})
    problem = PlainInit(gone).running_problem("st2api")
    assert problem is not None
    assert problem.startswith("st2api is not running (init plain)")
    assert "/var/log/st2pkg-units/st2api.log" in problem


def test_plain_unit_start_units_restarted_counts_as_not_running() -> None:
    problem = PlainInit(plain_node(restarts="2\n")).running_problem("st2api")
    assert problem is not None
    assert problem.startswith("st2api runs but init plain restarted it 2 times")


def test_plain_start_and_stop_go_through_start_units() -> None:
    node = Scripted({START_UNITS: (1, "")})
    PlainInit(node).start(["st2api", "st2auth"])
    PlainInit(Scripted()).stop(["x"])
    assert node.commands == [f"ST2PKG_UNITS_SETTLE=0 {START_UNITS} st2api st2auth"]
    with pytest.raises(StageError, match="start-units refused the units st2api"):
        PlainInit(Scripted({f"ST2PKG_UNITS_SETTLE=0 {START_UNITS}": (2, "")})).start(["st2api"])


def test_only_plain_stops_units_for_a_removal() -> None:
    systemd, plain = Scripted(), Scripted()
    SystemdInit(systemd).stop_for_removal(["st2api"])
    PlainInit(plain).stop_for_removal(["st2api"])
    assert systemd.commands == []
    assert plain.commands == [f"{START_UNITS} --stop st2api"]


def test_plain_restart_needs_start_units_on_the_node() -> None:
    missing = PlainInit(Scripted({"test -x": (1, "")})).restart("st2api")
    assert missing == f"no {START_UNITS} on the node to restart st2api with"
    node = Scripted()
    assert PlainInit(node).restart("st2api") is None
    assert node.commands[-1] == (f"{START_UNITS} --stop st2api 2>&1 && "
                                 f"ST2PKG_UNITS_SETTLE=0 {START_UNITS} st2api 2>&1")


def test_plain_workers_are_children_of_the_pool() -> None:
    children = "root /opt/stackstorm/st2/bin/st2actionrunner\n" * 2
    node = plain_node(more={"ps -o user=,args= --ppid 77": (0, children)})
    init = PlainInit(node)
    assert init.worker_problems("st2api", 2, "st2actionrunner", "root") == []
    (problem,) = init.worker_problems("st2api", 3, "st2actionrunner", "root")
    assert "runs 2 st2actionrunner workers as ['root'], not 3 as root" in problem
