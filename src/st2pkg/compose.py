"""Runs compose.yml as one project per (run, distro) with `docker compose` (v2) or
`docker-compose` (v1), whichever is installed or configured."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Mapping

from .containers import engine_answers
from .engineliveness import engine_gone
from .errors import StageError, UnavailableError
from .paths import COMPOSE_FILE
from .report import Log


def _works(argv: list[str]) -> bool:
    if shutil.which(argv[0]) is None:
        return False
    probe = subprocess.run([*argv, "version"], capture_output=True, text=True, check=False)
    return probe.returncode == 0


def find(mode: str) -> list[str]:
    """The compose command for ``mode`` (auto, v2, v1), or UnavailableError."""
    candidates = {"v2": [["docker", "compose"]], "v1": [["docker-compose"]],
                  "auto": [["docker", "compose"], ["docker-compose"]]}[mode]
    for argv in candidates:
        if _works(argv):
            return argv
    raise UnavailableError(f"no compose found for compose={mode}: install the Docker Compose "
                           "plugin ('docker compose') or docker-compose")


class Project:
    """One compose project: ``st2pkg-<run>-<distro>``."""

    def __init__(self, command: list[str], name: str, env: Mapping[str, str]) -> None:
        self.command = command
        self.name = name
        self.env = dict(env)

    def run(self, args: list[str], log: Log) -> None:
        """Run one compose command, its output into ``log``; StageError when it fails."""
        argv = [*self.command, "-p", self.name, "-f", str(COMPOSE_FILE), *args]
        log("$ " + " ".join(argv[len(self.command):]))
        proc = subprocess.run(argv, env=self.env, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True, check=False)
        for line in proc.stdout.splitlines():
            log(line)
        if proc.returncode != 0:
            if not engine_answers():
                raise UnavailableError(f"compose {args[0]} for {self.name}: {engine_gone()}")
            tail = " | ".join(proc.stdout.strip().splitlines()[-3:])
            raise StageError(f"compose {args[0]} for {self.name} failed: {tail}")

    def create(self, services: list[str], log: Log) -> None:
        """Create (not start) the services' containers and the project network."""
        self.run(["up", "--no-start", "--force-recreate", *services], log)

    def start(self, services: list[str], log: Log) -> None:
        """Start created containers."""
        self.run(["start", *services], log)

    def down(self, log: Log) -> None:
        """Remove the project's containers, network and anonymous volumes."""
        self.run(["down", "--volumes", "--remove-orphans", "--timeout", "5"], log)
