"""The substrate as a user meets it: up, shell, probes, caching, clean, interrupts."""

from __future__ import annotations

import re
import signal
import time
from pathlib import Path

import pytest
from tests.support import Cli, run_containers, run_networks

pytestmark = pytest.mark.docker


def run_id_of(output: str) -> str:
    match = re.search(r"^run (\S+): state in", output, re.M)
    assert match, output
    return match.group(1)


def up_and_probe(cli: Cli, distro: str) -> str:
    up = cli("up", f"--distro={distro}")
    run_id = run_id_of(up.stdout)
    assert f"[{distro}] test node:" in up.stdout
    probe = cli("shell", f"--distro={distro}", "--node=test", "--cmd=st2pkg-probe-services")
    assert "rabbitmq: ok (AMQP 0-9-1 connection.start received)" in probe.stdout
    assert "postgres: ok (SELECT 1 -> 1)" in probe.stdout
    assert "redis: ok (PING -> PONG)" in probe.stdout
    return run_id


def test_up_bookworm_then_shell_then_cached_then_clean(cli: Cli) -> None:
    first = up_and_probe(cli, "bookworm")
    # shell returns the remote command's exit code, on build and test nodes and services
    assert cli("shell", "--distro=bookworm", "--node=build", "--cmd=exit 7",
               check=False).returncode == 7
    redis = cli("shell", "--distro=bookworm", "--node=redis", "--cmd=redis-cli ping")
    assert redis.stdout.strip() == "PONG"
    # nothing changed: no image is built again
    again = cli("up", "--distro=bookworm")
    assert again.stderr.count("cached (inputs unchanged)") >= 2, again.stderr
    assert not re.search(r": built$", again.stderr, re.M), again.stderr
    second = run_id_of(again.stdout)
    assert first != second
    assert run_containers(first)
    assert run_containers(second)
    cleaned = cli("clean")
    assert "of this checkout" in cleaned.stdout
    for run_id in (first, second):
        assert run_containers(run_id) == []
        assert run_networks(run_id) == []


def test_unprovisionable_distro_fails_fast_and_starts_nothing(cli: Cli) -> None:
    before = set(run_containers())
    proc = cli("up", "--distro=jammy", check=False)
    assert proc.returncode == 3
    assert "jammy: registry image ubuntu:jammy" in proc.stderr
    assert "no bootstrap from Debian's archive for ubuntu" in proc.stderr
    assert set(run_containers()) == before


def test_unknown_distro_is_a_usage_error(cli: Cli) -> None:
    proc = cli("up", "--distro=bookwrm", check=False)
    assert proc.returncode == 2
    assert "did you mean 'bookworm'" in proc.stderr


def told(cli: Cli, output: str) -> str:
    """The command's output and its up step's log, for assertion messages."""
    log = Path(cli.env["ST2PKG_OUTPUT"]) / "bookworm" / "logs" / "up.log"
    return f"{output}\n--- up.log ---\n{log.read_text() if log.is_file() else '(none)'}"


def test_sigterm_during_up_leaves_nothing_behind(cli: Cli) -> None:
    # Only this run's containers count: other runs may share the engine.
    runs_before = cli.run_ids()
    proc = cli.popen("up", "--distro=bookworm")
    deadline = time.monotonic() + 300
    run_id = None
    while run_id is None or not run_containers(run_id):
        assert proc.poll() is None, told(cli, proc.stdout.read() if proc.stdout else "")
        assert time.monotonic() < deadline, "up never created a container"
        new = cli.run_ids() - runs_before
        run_id = new.pop() if new else None
        time.sleep(0.2)
    proc.send_signal(signal.SIGTERM)
    output, _ = proc.communicate(timeout=180)
    assert proc.returncode != 0, told(cli, output)
    assert "interrupted" in output, told(cli, output)
    assert run_containers(run_id) == [], told(cli, output)
    assert run_networks(run_id) == [], told(cli, output)


@pytest.mark.matrix
@pytest.mark.parametrize("distro", ["bullseye", "trixie"])
def test_up_other_debian_suites(cli: Cli, distro: str) -> None:
    up_and_probe(cli, distro)
    cli("clean")
