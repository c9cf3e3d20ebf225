"""The verify stage: install built packages on the distro's test node beside the real
services, configure and start them as a user would, then prove it with the testinfra suite
(tests/infra). Nodes of a failed verification are kept for `st2pkg shell`."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from .distros import Distro
from .errors import StageError
from .formats import FORMATS
from .inits import SCRIPTS, init_mode
from .nodes import Node, Topology
from .paths import DATA, INFRA_SUITE
from .recipes import Recipe
from .remote import NodeSession, Transport
from .report import Log
from .runner import cancelling
from .services import MONGODB, ServiceImage
from .ssh import write_ssh_config

if TYPE_CHECKING:
    from .context import RunContext

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

    def __init__(self, context: RunContext, distro: Distro, services: dict[str, ServiceImage],
                 *, keep: bool, remove: bool) -> None:
        self.context = context
        self.docker, self.images, self.reporter = context.docker, context.images, context.reporter
        self.opts, self.state, self.compose = context.opts, context.state, context.compose
        self.distro, self.services, self.keep, self.remove = distro, services, keep, remove
        self.reports = self.opts.output / distro.name / "reports"

    def run(self, packages: Sequence[Path], recipes: Sequence[Recipe]) -> VerifyResult:
        """Install ``packages`` (files of ``recipes``) and run the suite; StageError when
        anything fails, after every result is recorded."""
        name = self.distro.name
        result = VerifyResult(name)
        with self.reporter.step(name, "images") as log:
            image = self.images.node(self.distro, "test", log)
            self.reporter.say(name, "images", f"test node {image.ref}: {image.how}")
        topology = Topology(self.context, self.distro, {"test": image.ref}, self.services)
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
                self.reporter.say(name, "verify", f"test node kept: st2pkg shell --distro="
                                  f"{name} --node=test (st2pkg clean removes it)")
            raise
        if not self.keep:
            with self.reporter.step(name, "down") as log:
                topology.down(log)
        return result

    def _install(self, conn: Transport, packages: Sequence[Path]) -> None:
        with self.reporter.step(self.distro.name, "install") as log:
            node = NodeSession(conn, log)
            files = {f"artifacts/{p.name}": p for p in packages}
            node.put_tree({"scripts": self.opts.recipes_dir / "scripts", **files}, "/opt/st2pkg")
            FORMATS[self.distro.format].install(node, [f"{ARTIFACTS}/{p.name}" for p in packages])
        with self.reporter.step(self.distro.name, "configure") as log:
            NodeSession(conn, log).run(
                "if [ -f /etc/st2/st2.conf ]; then %s; "
                "else echo 'no /etc/st2/st2.conf: nothing to configure'; fi",
                f"{SCRIPTS}/configure-endpoints", what="configure-endpoints")

    def _start(self, conn: Transport, node: Node,
               recipes: Sequence[Recipe]) -> dict[str, str]:
        """Start the recipes' units; the dead ones with the tail of their logs."""
        units = [u for r in recipes for u in r.units]
        if not units:
            return {}
        with self.reporter.step(self.distro.name, "start") as log:
            mode = init_mode(node.init, NodeSession(conn, log))
            mode.start(units)
            time.sleep(SETTLE_SECONDS)
            dead = {}
            for unit in units:
                problem = mode.running_problem(unit)
                if problem is not None:
                    dead[unit] = problem
                    log(f"{unit}: NOT running: {problem}")
                    self.reporter.say(self.distro.name, "start", f"{unit} is not running")
            return dead

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
        argv = [sys.executable, "-m", "pytest", INFRA_SUITE, "-p", "no:cacheprovider",
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
    proc = subprocess.Popen(argv, cwd=DATA, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    assert proc.stdout is not None
    for line in proc.stdout:
        log(line)
    return proc.wait()
