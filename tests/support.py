"""Helpers shared by the integration tests: the CLI as users run it, Docker look-ups."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import docker

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Cli:
    """Runs `invoke <task>` from the repo root with its own output and state dirs."""

    env: dict[str, str]

    def __call__(self, *args: str, check: bool = True,
                 extra_env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        env = {**self.env, **(extra_env or {})}
        proc = subprocess.run([sys.executable, "-m", "invoke", *args], cwd=ROOT, env=env,
                              capture_output=True, text=True, check=False)
        if check and proc.returncode != 0:
            raise AssertionError(f"invoke {' '.join(args)} exited {proc.returncode}\n"
                                 f"stdout:\n{proc.stdout}\nstderr:\n{proc.stderr}")
        return proc

    def popen(self, *args: str) -> subprocess.Popen[str]:
        return subprocess.Popen([sys.executable, "-m", "invoke", *args], cwd=ROOT, env=self.env,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def run_containers(run_id: str | None = None) -> list[str]:
    """Names of containers of st2pkg runs (one run, or all)."""
    label = f"st2pkg.run={run_id}" if run_id else "st2pkg.run"
    client = docker.from_env()
    return [c.name for c in client.containers.list(all=True, filters={"label": label})]


def run_networks(run_id: str | None = None) -> list[str]:
    label = f"st2pkg.run={run_id}" if run_id else "st2pkg.run"
    return [n.name for n in docker.from_env().networks.list(filters={"label": label})]
