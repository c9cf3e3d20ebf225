"""The testinfra suite's contract (environment, selection, purge last) as the verify stage and
users invoke it. start-units, its no-systemd fallback, is tested in test_plain_init.py."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from tests.support import ROOT


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
