"""The verify stage: install built packages on the distro's test node beside the real
services, configure and start them as a user would, then prove it with the testinfra suite
(tests/infra). Nodes of a failed verification are kept for `invoke shell`."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from fabric import Connection

from .config import Options
from .containers import Docker
from .distros import Distro
from .errors import StageError
from .formats import FORMATS
from .images import Images, Log
from .nodes import Node, Topology
from .paths import ROOT
from .recipes import Recipe
from .remote import put_tree, run
from .report import Reporter
from .runner import cancelling
from .services import MONGODB, ServiceImage
from .ssh import RunState, write_ssh_config

SCRIPTS = "/opt/st2pkg/scripts"
ARTIFACTS = "/opt/st2pkg/artifacts"
SETTLE_SECONDS = 5


@dataclass
class Counts:
    """Test outcomes read from a JUnit file."""

    passed: int = 0
    failed: int = 0
    skipped: int = 0

    def add(self, other: Counts) -> None:
        self.passed += other.passed
        self.failed += other.failed
        self.skipped += other.skipped


@dataclass
class VerifyResult:
    """What the verification of one distro found."""

    distro: str
    init: str = ""
    counts: Counts = field(default_factory=Counts)
    reports: list[Path] = field(default_factory=list)
    dead_units: dict[str, str] = field(default_factory=dict)
    node_kept: bool = False


def read_junit(path: Path) -> Counts:
    """Passed/failed/skipped of a JUnit XML file (errors count as failed)."""
    root = ET.parse(path).getroot()
    suites = [root] if root.tag == "testsuite" else list(root.iter("testsuite"))
    counts = Counts()
    for suite in suites:
        tests, skipped = int(suite.get("tests", 0)), int(suite.get("skipped", 0))
        failed = int(suite.get("failures", 0)) + int(suite.get("errors", 0))
        counts.add(Counts(tests - failed - skipped, failed, skipped))
    return counts


class Verifier:
    """Verifies one distro's packages."""

    def __init__(self, docker: Docker, images: Images, reporter: Reporter, opts: Options,
                 state: RunState, compose: list[str], distro: Distro,
                 services: dict[str, ServiceImage], keep: bool, remove: bool) -> None:
        self.docker, self.images, self.reporter, self.opts = docker, images, reporter, opts
        self.state, self.compose, self.distro, self.services = state, compose, distro, services
        self.keep, self.remove = keep, remove
        self.reports = opts.output / distro.name / "reports"

    def run(self, packages: Sequence[Path], recipes: Sequence[Recipe]) -> VerifyResult:
        """Install ``packages`` (files of ``recipes``) and run the suite; StageError when
        anything fails, after every result is recorded."""
        name = self.distro.name
        result = VerifyResult(name)
        with self.reporter.step(name, "images") as log:
            image = self.images.node(self.distro, "test", log)
            self.reporter.say(name, "images", f"test node {image.ref}: {image.how}")
        topology = Topology(self.docker, self.compose, self.state, self.distro,
                            {"test": image.ref}, self.services, self.opts.test_init,
                            cgroup_mount=self.opts.cgroup_mount)
        with self.reporter.step(name, "up") as log:
            node = topology.up(["test"], log)["test"]
        result.init = node.init
        self.reporter.say(name, "up", f"test node init mode: {node.init}")
        write_ssh_config(self.state, {node.key_name: node.port})
        try:
            with node.connect(self.state) as conn:
                self._install(conn, packages)
                result.dead_units = self._start(conn, node, recipes)
            self._suite(node, recipes, result, purge=False)
            self._suite(node, recipes, result, purge=True)
        except BaseException:
            if cancelling():
                raise
            result.node_kept = not self.remove
            if self.remove:
                with self.reporter.step(name, "down") as log:
                    topology.down(log)
            else:
                self.reporter.say(name, "verify", f"test node kept: invoke shell --distro="
                                  f"{name} --node=test (invoke clean removes it)")
            raise
        if not self.keep:
            with self.reporter.step(name, "down") as log:
                topology.down(log)
        return result

    def _install(self, conn: Connection, packages: Sequence[Path]) -> None:
        fmt = FORMATS[self.distro.format]
        with self.reporter.step(self.distro.name, "install") as log:
            files = {f"artifacts/{p.name}": p for p in packages}
            put_tree(conn, {"scripts": self.opts.recipes_dir / "scripts", **files}, "/opt/st2pkg",
                     log)
            run(conn, fmt.install([f"{ARTIFACTS}/{p.name}" for p in packages]), log,
                what=f"installing {', '.join(p.name for p in packages)}")
        with self.reporter.step(self.distro.name, "configure") as log:
            run(conn, f"if [ -f /etc/st2/st2.conf ]; then {SCRIPTS}/configure-endpoints; "
                "else echo 'no /etc/st2/st2.conf: nothing to configure'; fi", log,
                what="configure-endpoints")

    def _start(self, conn: Connection, node: Node,
               recipes: Sequence[Recipe]) -> dict[str, str]:
        units = [u for r in recipes for u in r.units]
        if not units:
            return {}
        quoted = " ".join(shlex.quote(u) for u in units)
        with self.reporter.step(self.distro.name, "start") as log:
            if node.init == "systemd":
                run(conn, f"systemctl daemon-reload && systemctl enable {quoted} && "
                    f"systemctl restart {quoted} || true", log, what="systemctl start")
            else:
                run(conn, f"{SCRIPTS}/start-units {quoted} || true", log, what="start-units")
            time.sleep(SETTLE_SECONDS)
            dead = {}
            for unit in units:
                if not self._alive(conn, node, unit):
                    dead[unit] = self._tail(conn, node, unit)
                    log(f"{unit}: NOT running; last lines:\n{dead[unit]}")
                    self.reporter.say(self.distro.name, "start", f"{unit} is not running")
            return dead

    def _alive(self, conn: Connection, node: Node, unit: str) -> bool:
        if node.init == "systemd":
            # A unit that crash-loops is briefly active after each restart: restarted is dead.
            check = (f"systemctl is-active --quiet {shlex.quote(unit)} && test \"$(systemctl "
                     f"show -p NRestarts --value {shlex.quote(unit)})\" = 0")
        else:
            check = f"kill -0 \"$(cat /run/st2pkg-units/{shlex.quote(unit)}.pid)\""
        return bool(conn.run(check, warn=True, hide=True).ok)

    def _tail(self, conn: Connection, node: Node, unit: str) -> str:
        if node.init == "systemd":
            cmd = f"journalctl -u {shlex.quote(unit)} -n 30 --no-pager"
        else:
            cmd = f"tail -n 30 /var/log/st2pkg-units/{shlex.quote(unit)}.log"
        cmd += f"; tail -n 20 /var/log/st2/{shlex.quote(unit)}.log 2>/dev/null"
        return str(conn.run(cmd, warn=True, hide=True).stdout).strip()

    def _suite(self, node: Node, recipes: Sequence[Recipe], result: VerifyResult,
               purge: bool) -> None:
        stage = "purge" if purge else "testinfra"
        junit = self.reports / ("junit-purge.xml" if purge else "junit.xml")
        self.reports.mkdir(parents=True, exist_ok=True)
        mongo = self.services.get(MONGODB)
        env = {**os.environ, "ST2PKG_PACKAGES": ",".join(r.name for r in recipes),
               "ST2PKG_FORMAT": self.distro.format, "ST2PKG_INIT": node.init,
               "ST2PKG_MONGODB": "" if mongo and mongo.available else
               (mongo.how if mongo else "no MongoDB in this run"),
               "ST2PKG_PURGE": "1" if purge else "0",
               # The suite resolves recipes through the same options as this run.
               "ST2PKG_RECIPES_DIR": str(self.opts.recipes_dir)}
        argv = [sys.executable, "-m", "pytest", "tests/infra", "-p", "no:cacheprovider",
                f"--hosts=ssh://{node.key_name}", f"--ssh-config={self.state.dir / 'ssh_config'}",
                f"--junitxml={junit}", "-o", "junit_family=xunit2", "-ra", "-v",
                "-k", "purge" if purge else "not purge"]
        with self.reporter.step(self.distro.name, stage) as log:
            _stream(argv, env, log)
            if not junit.is_file():
                raise StageError(f"the testinfra suite wrote no report ({junit})")
            counts = read_junit(junit)
            result.counts.add(counts)
            result.reports.append(junit)
            self.reporter.say(self.distro.name, stage, f"{counts.passed} passed, "
                              f"{counts.failed} failed, {counts.skipped} skipped ({junit})")
            if counts.failed:
                tails = "".join(f"\n--- {u} ---\n{t}" for u, t in result.dead_units.items())
                raise StageError(f"{counts.failed} checks failed (see {junit}){tails}")


def _stream(argv: list[str], env: dict[str, str], log: Log) -> int:
    proc = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    assert proc.stdout is not None
    for line in proc.stdout:
        log(line)
    return proc.wait()
