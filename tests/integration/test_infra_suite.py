"""The testinfra suite's contract (environment, selection, purge last) as the verify stage and
users invoke it, and packaging/scripts/start-units, its no-systemd fallback, on a real node."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.support import ROOT, Cli

START_UNITS = ROOT / "packaging" / "scripts" / "start-units"


def suite(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """pytest tests/infra as the verify stage runs it, with only the given ST2PKG_* set."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("ST2PKG_")}
    return subprocess.run([sys.executable, "-m", "pytest", "tests/infra", "-p", "no:cacheprovider",
                           *args], cwd=ROOT, env={**clean, **(env or {})}, capture_output=True,
                          text=True, check=False)


def collected(output: str) -> list[str]:
    return [line for line in output.splitlines() if line.startswith("tests/infra/")]


def test_without_hosts_nothing_runs_against_this_machine() -> None:
    proc = suite("-rs", env={"ST2PKG_PACKAGES": "st2"})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert " passed" not in proc.stdout
    assert "tests/infra checks a test node: pass --hosts=" in proc.stdout


@pytest.mark.parametrize(("env", "message"), [
    ({"ST2PKG_PURGE": "yes"}, "ST2PKG_PURGE='yes': must be one of 0, 1"),
    ({"ST2PKG_INIT": "upstart"}, "ST2PKG_INIT='upstart': must be one of systemd, plain"),
    ({"ST2PKG_FORMAT": "apk"}, "ST2PKG_FORMAT='apk': must be one of deb, rpm"),
    ({"ST2PKG_PACKAGES": "st3"}, "no recipe 'st3'"),
])
def test_bad_environment_is_one_usage_error(env: dict[str, str], message: str) -> None:
    proc = suite("--collect-only", "-q", env=env)
    assert proc.returncode == 4, proc.stdout + proc.stderr
    assert message in proc.stderr


def test_purge_checks_are_deselected_unless_asked_for_then_run_last() -> None:
    hosts = ("--hosts=ssh://nowhere-test", "--collect-only", "-q")
    plain = collected(suite(*hosts, env={"ST2PKG_PACKAGES": "st2"}).stdout)
    assert plain
    assert not [t for t in plain if "purge" in t]
    purging = collected(suite(*hosts, env={"ST2PKG_PACKAGES": "st2", "ST2PKG_PURGE": "1"}).stdout)
    first_purge = next(i for i, t in enumerate(purging) if "test_purge.py" in t)
    assert all("test_purge.py" in t for t in purging[first_purge:])
    assert len(purging) > len(plain)
    # The verify stage's second run: -k purge selects exactly the purge checks.
    only = collected(suite(*hosts, "-k", "purge",
                           env={"ST2PKG_PACKAGES": "st2", "ST2PKG_PURGE": "1"}).stdout)
    assert only == purging[first_purge:]


def test_checks_follow_the_recipe_data() -> None:
    ids = collected(suite("--hosts=ssh://nowhere-test", "--collect-only", "-q",
                          env={"ST2PKG_PACKAGES": "st2"}).stdout)
    units = [line.split()[0] for line in (ROOT / "packaging" / "st2" / "services").read_text()
             .splitlines() if line and not line.startswith("#")]
    for unit in units:
        assert any(f"test_running[st2:{unit}-" in t for t in ids), unit
    assert any("test_listening[st2:st2auth:9100-" in t for t in ids)
    client = collected(suite("--hosts=ssh://nowhere-test", "--collect-only", "-q",
                             env={"ST2PKG_PACKAGES": "st2client"}).stdout)
    assert not [t for t in client if "test_services.py" in t or "test_accounts.py" in t]
    assert any("test_link_into_venv[st2client:st2-" in t for t in client)


# start-units on a real test node: unit files of its own, nothing of st2 needed.

FILES = {
    "/etc/systemd/system/demo-env.service": """[Unit]
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
    "/etc/systemd/system/demo-dies.service": """[Service]
ExecStart=/bin/sh -c 'echo about to die; exit 3'
""",
    "/etc/systemd/system/demo-prefails.service": """[Service]
ExecStartPre=/bin/false
ExecStart=/bin/sleep 600
""",
    "/etc/systemd/system/demo-forking.service": """[Service]
Type=forking
ExecStart=/bin/true
""",
    "/etc/default/demo-env": 'FROM_FILE="from file"\n',
    "/etc/tmpfiles.d/demo.conf": "d /run/demo 0750 nobody nogroup -\n",
}


@pytest.fixture(scope="module")
def node_ssh(cli: Cli) -> Iterator[list[str]]:
    """ssh to a bookworm test node of a run of its own (removed afterwards)."""
    up = cli("up", "--distro=bookworm")
    match = re.search(r"^run (\S+): state in (\S+)$", up.stdout, re.M)
    assert match, up.stdout
    ssh = ["ssh", "-F", str(Path(match.group(2)) / "ssh_config"), "bookworm-test"]
    try:
        yield ssh
    finally:
        cli("clean")


def on_node(ssh: list[str], command: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run([*ssh, command], input=stdin, capture_output=True, text=True,
                          check=False)


@pytest.fixture(scope="module")
def units_node(node_ssh: list[str]) -> list[str]:
    """The node with start-units and the demo units installed."""
    assert on_node(node_ssh, "cat > /usr/local/sbin/start-units && chmod 755 "
                   "/usr/local/sbin/start-units", START_UNITS.read_text()).returncode == 0
    for path, text in FILES.items():
        assert on_node(node_ssh, f"cat > {path}", text).returncode == 0
    return node_ssh


@pytest.mark.docker
def test_start_units_runs_a_unit_as_systemd_would(units_node: list[str]) -> None:
    run = on_node(units_node, "ST2PKG_UNITS_SETTLE=1 start-units demo-env")
    assert run.returncode == 0, run.stderr
    log = on_node(units_node, "cat /var/log/st2pkg-units/demo-env.log").stdout
    assert "hello world|from file|a|b|/tmp|nobody|100%" in log
    assert on_node(units_node, "cat /tmp/demo-pre").stdout.strip() == "nobody"
    pid = on_node(units_node, "cat /run/st2pkg-units/demo-env.pid").stdout.strip()
    owner = on_node(units_node, f"ps -o user=,sess= -p {pid}").stdout.split()
    assert owner == ["nobody", pid]  # its own session, as the unit's user
    runtime = on_node(units_node, "stat -c '%U %G %a' /run/demo").stdout.strip()
    assert runtime == "nobody nogroup 750"
    again = on_node(units_node, "ST2PKG_UNITS_SETTLE=0 start-units demo-env")
    assert again.returncode == 0
    assert f"already running (pid {pid})" in again.stderr
    on_node(units_node, f"kill {pid}")


@pytest.mark.docker
def test_start_units_names_the_units_that_died_with_their_log(units_node: list[str]) -> None:
    run = on_node(units_node, "ST2PKG_UNITS_SETTLE=1 start-units demo-dies demo-prefails")
    assert run.returncode == 1
    assert "not running: demo-dies demo-prefails" in run.stderr
    assert "about to die" in run.stderr
    assert "demo-prefails: ExecStartPre failed: /bin/false" in run.stderr


@pytest.mark.docker
def test_start_units_refuses_what_it_cannot_emulate(units_node: list[str]) -> None:
    unknown = on_node(units_node, "start-units demo-env no-such-unit")
    assert unknown.returncode == 2
    assert "no unit file no-such-unit.service" in unknown.stderr
    forking = on_node(units_node, "start-units demo-forking")
    assert forking.returncode == 2
    assert "Type=forking is not supported" in forking.stderr
