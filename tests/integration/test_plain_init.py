"""Init mode "plain" on a real test node: packaging/scripts/start-units runs units from
their own unit files (user, environment, quoting, restart policy, stop), and st2pkg's
PlainInit, through a NodeSession over the node's SSH connection, sees what it did."""

from __future__ import annotations

import json
import re
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from tests.support import ROOT, Cli

from st2pkg.inits import START_UNITS, PlainInit, detect
from st2pkg.remote import NodeSession
from st2pkg.ssh import RunState, connect

pytestmark = pytest.mark.docker

SCRIPT = ROOT / "packaging" / "scripts" / "start-units"
UNITS = "/etc/systemd/system"
STATE = "/run/st2pkg-units"
LOGS = "/var/log/st2pkg-units"

FILES = {
    f"{UNITS}/demo-env.service": """[Unit]
Description=start-units demo: environment, user, directory, pre-command
[Service]
User=nobody
Group=nogroup
Environment="GREETING=hello world" WORDS="a b"
EnvironmentFile=/etc/default/demo-env
EnvironmentFile=-/etc/default/demo-missing
WorkingDirectory=/tmp
ExecStartPre=/bin/sh -c 'id -un > /tmp/demo-pre'
ExecStart=/bin/sh -c 'echo "$GREETING|${FROM_FILE}|$0|$1|$(pwd)|$(id -un)|100%%"; \\
  exec sleep 600' $WORDS
""",
    f"{UNITS}/demo-dies.service": """[Service]
Restart=no
ExecStart=/bin/sh -c 'echo about to die; exit 3'
""",
    f"{UNITS}/demo-prefails.service": """[Service]
ExecStartPre=/bin/false
ExecStart=/bin/sleep 600
""",
    f"{UNITS}/demo-forking.service": """[Service]
Type=forking
ExecStart=/bin/true
""",
    # Fails its first run, then stays up: Restart=on-failure brings it back.
    f"{UNITS}/demo-flaky.service": """[Service]
Restart=on-failure
RestartSec=200ms
ExecStart=/bin/sh -c 'if [ ! -e /tmp/demo-flaky-ran ]; then touch /tmp/demo-flaky-ran; \\
  echo failing once; exit 1; fi; exec sleep 600'
""",
    # Each argument on a line of its own, in brackets: quoting decides what one is.
    f"{UNITS}/demo-args.service": """[Service]
ExecStart=/bin/sh -c 'printf "[%%s]\\n" "$@" > /tmp/demo-args; exec sleep 600' demo \\
  "two words  here" 'single quoted' tab\\tbed "esc\\"aped" ${SPACED} $SPACED $$SPACED
Environment="SPACED=x  y"
""",
    # Always restarted, but not once it is stopped.
    f"{UNITS}/demo-always.service": """[Service]
Restart=always
RestartSec=100ms
ExecStart=/bin/sleep 600
""",
    "/etc/default/demo-env": 'FROM_FILE="from file"\n',
    "/etc/tmpfiles.d/demo.conf": "d /run/demo 0750 nobody nogroup -\n",
}


@dataclass(frozen=True)
class PlainNode:
    """A bookworm test node booted with init plain, as ssh argv and as a NodeSession."""

    ssh: list[str]
    session: NodeSession
    log: list[str]

    def run(self, command: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
        return subprocess.run([*self.ssh, command], input=stdin, capture_output=True,
                              text=True, check=False)

    def start(self, *units: str, settle: int = 2) -> subprocess.CompletedProcess[str]:
        return self.run(f"ST2PKG_UNITS_SETTLE={settle} {START_UNITS} {' '.join(units)}")


@pytest.fixture(scope="module")
def plain(cli: Cli) -> Iterator[PlainNode]:
    """A test node of a run of its own in init mode plain, with start-units where the
    verify stage puts it and the demo units installed (removed afterwards)."""
    up = cli("up", "--distro=bookworm", extra_env={"ST2PKG_TEST_INIT": "plain"})
    match = re.search(r"^run (\S+): state in (\S+)$", up.stdout, re.M)
    assert match, up.stdout
    run_dir = Path(match.group(2))
    state = RunState(match.group(1), run_dir)
    port = json.loads((run_dir / "ports.json").read_text())["bookworm-test"]
    log: list[str] = []
    try:
        with connect(state, "bookworm-test", port) as conn:
            node = PlainNode(["ssh", "-F", str(run_dir / "ssh_config"), "bookworm-test"],
                             NodeSession(conn, log.append), log)
            node.session.run("mkdir -p %s", str(Path(START_UNITS).parent))
            node.session.put_file(SCRIPT, START_UNITS)
            node.session.run("chmod 755 %s", START_UNITS)
            for path, text in FILES.items():
                node.session.put_text(text, path)
            yield node
    finally:
        cli("clean")


def test_the_node_runs_in_plain_mode(plain: PlainNode) -> None:
    assert detect(plain.session) == "plain"


def test_start_units_runs_a_unit_as_systemd_would(plain: PlainNode) -> None:
    run = plain.start("demo-env", settle=1)
    assert run.returncode == 0, run.stderr
    log = plain.run(f"cat {LOGS}/demo-env.log").stdout
    assert "hello world|from file|a|b|/tmp|nobody|100%" in log
    assert plain.run("cat /tmp/demo-pre").stdout.strip() == "nobody"
    pid = plain.run(f"cat {STATE}/demo-env.pid").stdout.strip()
    owner = plain.run(f"ps -o user=,sess= -p {pid}").stdout.split()
    assert owner == ["nobody", pid]  # its own session, as the unit's user
    runtime = plain.run("stat -c '%U %G %a' /run/demo").stdout.strip()
    assert runtime == "nobody nogroup 750"
    again = plain.start("demo-env", settle=0)
    assert again.returncode == 0
    assert f"already running (pid {pid})" in again.stderr
    assert PlainInit(plain.session).running_problem("demo-env", "nobody") is None
    PlainInit(plain.session).stop(["demo-env"])


def test_start_units_names_the_units_that_died_with_their_log(plain: PlainNode) -> None:
    run = plain.start("demo-dies", "demo-prefails", settle=1)
    assert run.returncode == 1
    assert "not running: demo-dies demo-prefails" in run.stderr
    assert "about to die" in run.stderr
    assert "demo-prefails: ExecStartPre failed: /bin/false" in run.stderr


def test_restart_no_stays_dead_and_is_reported(plain: PlainNode) -> None:
    run = plain.start("demo-dies", settle=1)
    assert run.returncode == 1
    assert "demo-dies is NOT running" in run.stderr
    log = plain.run(f"cat {LOGS}/demo-dies.log").stdout
    assert "exited with status 3" in log
    assert "not restarted (Restart=no)" in log
    time.sleep(1)
    init = PlainInit(plain.session)
    assert init.main_pid("demo-dies") is None
    problem = init.running_problem("demo-dies")
    assert problem is not None
    assert problem.startswith("demo-dies is not running (init plain)")
    assert "about to die" in problem


def test_restart_on_failure_brings_the_unit_back(plain: PlainNode) -> None:
    run = plain.start("demo-flaky", settle=2)
    # Restarted counts as not running cleanly, as the verify stage counts it under systemd.
    assert run.returncode == 1, run.stderr
    assert "demo-flaky runs but was restarted 1 times" in run.stderr
    init = PlainInit(plain.session)
    pid = init.main_pid("demo-flaky")
    assert pid is not None, plain.run(f"cat {LOGS}/demo-flaky.log").stdout
    assert plain.run(f"ps -o args= -p {pid}").stdout.strip() == "sleep 600"
    assert init.restarts("demo-flaky") == 1
    log = plain.run(f"cat {LOGS}/demo-flaky.log").stdout
    assert "failing once" in log
    assert "exited with status 1" in log
    assert "restarting in 0.200000s (Restart=on-failure)" in log
    problem = init.running_problem("demo-flaky")
    assert problem is not None
    assert problem.startswith("demo-flaky runs but init plain restarted it 1 times")
    init.stop(["demo-flaky"])
    assert init.main_pid("demo-flaky") is None


def test_quoted_arguments_reach_the_program_whole(plain: PlainNode) -> None:
    run = plain.start("demo-args", settle=1)
    assert run.returncode == 0, run.stderr
    args = plain.run("cat /tmp/demo-args").stdout.splitlines()
    assert args == ["[two words  here]", "[single quoted]", "[tab\tbed]", '[esc"aped]',
                    "[x  y]", "[x]", "[y]", "[$SPACED]"]
    PlainInit(plain.session).stop(["demo-args"])


def test_a_stopped_unit_is_not_restarted(plain: PlainNode) -> None:
    init = PlainInit(plain.session)
    init.start(["demo-always"])
    pid = init.main_pid("demo-always")
    assert pid is not None
    init.stop(["demo-always"])
    time.sleep(1)
    assert init.main_pid("demo-always") is None
    assert plain.run(f"ps -o pid= -p {pid}").returncode != 0
    assert plain.run(f"ls {STATE}/demo-always.supervisor").returncode != 0
    assert "stopped" in plain.run(f"tail -n 1 {LOGS}/demo-always.log").stdout
    # Restarting it is a fresh start: no restarts counted.
    assert init.restart("demo-always") is None
    assert init.running_problem("demo-always") is None
    init.stop(["demo-always"])


def test_start_units_refuses_what_it_cannot_emulate(plain: PlainNode) -> None:
    unknown = plain.start("demo-env", "no-such-unit")
    assert unknown.returncode == 2
    assert "no unit file no-such-unit.service" in unknown.stderr
    forking = plain.start("demo-forking")
    assert forking.returncode == 2
    assert "Type=forking is not supported" in forking.stderr
