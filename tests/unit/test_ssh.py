"""The per-run ssh_config, read by OpenSSH itself (`ssh -G` resolves it without connecting)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from st2pkg.ssh import RunState, write_ssh_config


@pytest.mark.skipif(shutil.which("ssh") is None, reason="the OpenSSH client is not installed")
def test_ssh_config_survives_a_state_dir_with_spaces(tmp_path: Path) -> None:
    state = RunState.create(tmp_path / "state dir with spaces")
    config = write_ssh_config(state, {"bookworm-test": 2222})
    done = subprocess.run(["ssh", "-G", "-F", str(config), "bookworm-test"], check=True,
                          capture_output=True, text=True)
    resolved = dict(line.split(" ", 1) for line in done.stdout.splitlines() if " " in line)
    assert resolved["port"] == "2222"
    assert resolved["identityfile"] == str(state.client_key)
    assert resolved["userknownhostsfile"] == str(state.dir / "known_hosts")
    assert resolved["stricthostkeychecking"] == "true"
