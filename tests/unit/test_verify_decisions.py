"""The verify stage's decisions without Docker or SSH: which steps run, what a failed
install, start or testinfra run does to the test node (kept for `st2pkg shell` unless
--rm; removed after a green run unless --keep; left to the sweep when interrupted), and how a
JUnit report is counted. The node's SSH connection and the testinfra run are stand-ins
(``nodes.connect``, ``nodes.wait_for_ssh`` and ``verify._stream`` are replaced); compose is
a stand-in on PATH and the engine is the fake one."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from tests.unit.fakes import (
    CATALOG,
    FakeCompose,
    FakeConnection,
    FakeEngine,
    context,
    fake_compose,
)

from st2pkg import nodes, runner, verify
from st2pkg.context import RunContext
from st2pkg.errors import StageError
from st2pkg.paths import INFRA_SUITE, RECIPES_DIR
from st2pkg.recipes import load
from st2pkg.report import Log
from st2pkg.services import ServiceImage
from st2pkg.ssh import RunState
from st2pkg.verify import Counts, Verifier, read_junit

BOOKWORM = CATALOG.get("bookworm")
ST2, ST2CLIENT = load("st2", RECIPES_DIR), load("st2client", RECIPES_DIR)
NO_MONGO = {"mongodb": ServiceImage("mongodb", None, "official image mongo:7 cannot be pulled")}
INSTALL = "export DEBIAN_FRONTEND=noninteractive && apt-get update -q && apt-get install"
# A systemd node whose units all run as st2 (main process 42).
RUNNING = {"timeout 60 systemctl is-system-running --wait": (0, "running\n"),
           "systemctl show -p MainPID": (0, "42\n"), "systemctl show -p NRestarts": (0, "0\n"),
           "ps -o user=,stat= -p 42": (0, "st2 Ss\n")}


def junit(tests: int, failures: int = 0, errors: int = 0, skipped: int = 0) -> str:
    return (f'<testsuites><testsuite name="pytest" tests="{tests}" failures="{failures}" '
            f'errors="{errors}" skipped="{skipped}"/></testsuites>')


@dataclass
class Suite:
    """Stands in for `pytest tests/infra`: writes ``reports[-k]`` (None: no report) to the
    --junitxml path and records each argv and environment."""

    reports: dict[str, str | None] = field(default_factory=lambda: {
        "not purge": junit(5, skipped=1), "purge": junit(2)})
    runs: list[tuple[list[str], dict[str, str]]] = field(default_factory=list)

    def __call__(self, argv: list[str], env: dict[str, str], log: Log) -> int:
        self.runs.append((argv, env))
        selected = argv[argv.index("-k") + 1]
        (path,) = [a.split("=", 1)[1] for a in argv if a.startswith("--junitxml=")]
        report = self.reports[selected]
        if report is not None:
            Path(path).write_text(report)
        return 0

    @property
    def selections(self) -> list[str]:
        return [argv[argv.index("-k") + 1] for argv, _ in self.runs]


@dataclass
class Stage:
    """A Verifier over fakes, and what it talked to."""

    run: RunContext
    engine: FakeEngine
    compose: FakeCompose
    node: FakeConnection
    suite: Suite
    packages: list[Path]

    def verifier(self, keep: bool = False, remove: bool = False,
                 services: dict[str, ServiceImage] | None = None) -> Verifier:
        return Verifier(self.run, BOOKWORM, NO_MONGO if services is None else services,
                        keep=keep, remove=remove)

    def steps(self) -> list[tuple[str, bool]]:
        return [(r.stage, r.ok) for r in self.run.reporter.results]

    def removed(self) -> bool:
        return any(s.startswith("down ") for s in self.compose.subcommands())


@pytest.fixture
def stage(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Stage]:
    compose = fake_compose(tmp_path, monkeypatch)
    fake = FakeEngine(registry={"debian:bookworm": {}})
    run = context(tmp_path, fake)
    project = nodes.project_name(run.state.id, "bookworm")
    fake.add_container(f"{project}-test-1", **{"com.docker.compose.project": project,
                                               "com.docker.compose.service": "test"}).port = 2222
    node = FakeConnection(dict(RUNNING))

    def reach(state: RunState, name: str, port: int, *rest: float) -> FakeConnection:
        assert (name, port) == ("bookworm-test", 2222)
        return node

    monkeypatch.setattr(nodes, "wait_for_ssh", reach)
    monkeypatch.setattr(nodes, "connect", reach)
    suite = Suite()
    monkeypatch.setattr(verify, "_stream", suite)
    monkeypatch.setattr(verify, "SETTLE_SECONDS", 0)
    package = tmp_path / "st2_3.9.0-1_amd64.deb"
    package.write_bytes(b"!<arch>\n")
    yield Stage(run, fake, compose, node, suite, [package])
    runner.CANCEL.clear()


def test_a_green_run_installs_starts_tests_purges_and_removes_the_node(stage: Stage) -> None:
    result = stage.verifier().run(stage.packages, [ST2])
    assert stage.steps() == [(s, True) for s in ("images", "up", "install", "configure",
                                                 "start", "testinfra", "purge", "down")]
    reports = stage.run.opts.output / "bookworm" / "reports"
    assert result.reports == [reports / "junit.xml", reports / "junit-purge.xml"]
    assert (result.init, result.dead_units, result.node_kept) == ("systemd", {}, False)
    assert result.counts == Counts(passed=6, failed=0, skipped=1)
    assert any(c.startswith(f"{INSTALL} -y -q --no-install-recommends "
                            "/opt/st2pkg/artifacts/st2_3.9.0-1_amd64.deb")
               for c in stage.node.commands)
    assert "systemctl enable st2api st2stream" in " ".join(stage.node.commands)
    assert stage.removed()


def test_the_suite_is_pointed_at_the_node_and_told_about_the_run(stage: Stage) -> None:
    stage.verifier().run(stage.packages, [ST2, ST2CLIENT])
    assert stage.suite.selections == ["not purge", "purge"]
    argv, env = stage.suite.runs[0]
    assert argv[1:4] == ["-m", "pytest", INFRA_SUITE]
    assert "--hosts=ssh://bookworm-test" in argv
    assert f"--ssh-config={stage.run.state.dir / 'ssh_config'}" in argv
    assert (stage.run.state.dir / "ssh_config").is_file()
    assert {k: env[k] for k in ("ST2PKG_PACKAGES", "ST2PKG_FORMAT", "ST2PKG_INIT",
                                "ST2PKG_MONGODB", "ST2PKG_PURGE")} == {
        "ST2PKG_PACKAGES": "st2,st2client", "ST2PKG_FORMAT": "deb", "ST2PKG_INIT": "systemd",
        "ST2PKG_MONGODB": "official image mongo:7 cannot be pulled", "ST2PKG_PURGE": "0"}
    assert stage.suite.runs[1][1]["ST2PKG_PURGE"] == "1"


def test_mongodb_checks_run_when_it_is_available(stage: Stage) -> None:
    mongo = {"mongodb": ServiceImage("mongodb", "mongo:7", "official image mongo:7")}
    project = nodes.project_name(stage.run.state.id, "bookworm")
    stage.engine.add_container(f"{project}-mongodb-1", **{
        "com.docker.compose.project": project,
        "com.docker.compose.service": "mongodb"}).health = "healthy"
    stage.verifier(services=mongo).run(stage.packages, [ST2CLIENT])
    assert stage.suite.runs[0][1]["ST2PKG_MONGODB"] == ""


def test_a_package_without_units_skips_the_start_step(stage: Stage) -> None:
    stage.verifier().run(stage.packages, [ST2CLIENT])
    assert "start" not in [s for s, _ in stage.steps()]


def test_keep_leaves_a_green_node_running(stage: Stage) -> None:
    result = stage.verifier(keep=True).run(stage.packages, [ST2CLIENT])
    assert not stage.removed()
    assert stage.steps()[-1] == ("purge", True)
    assert result.counts.failed == 0


def test_a_failed_install_keeps_the_node_for_a_shell(stage: Stage,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    stage.node.answers[INSTALL] = (100, "E: Unable to locate package st2\n")
    with pytest.raises(StageError, match=r"^installing st2_3.9.0-1_amd64.deb failed on the "
                                         r"node \(exit 100\)$"):
        stage.verifier().run(stage.packages, [ST2])
    assert stage.steps()[-1] == ("install", False)
    assert stage.suite.runs == [], "nothing is tested on a node without the packages"
    assert not stage.removed()
    assert ("[bookworm] verify: test node kept: st2pkg shell --distro=bookworm --node=test "
            "(st2pkg clean removes it)") in capsys.readouterr().err


def test_rm_removes_the_node_of_a_failed_install(stage: Stage,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    stage.node.answers[INSTALL] = (100, "")
    with pytest.raises(StageError, match=r"^installing "):
        stage.verifier(remove=True).run(stage.packages, [ST2])
    assert stage.steps()[-2:] == [("install", False), ("down", True)]
    assert stage.removed()
    assert "test node kept" not in capsys.readouterr().err


def test_an_interrupted_run_leaves_the_node_to_the_sweep(stage: Stage,
                                                         capsys: pytest.CaptureFixture[str]
                                                         ) -> None:
    stage.node.answers[INSTALL] = (130, "")
    runner.CANCEL.set()
    with pytest.raises(StageError):
        stage.verifier(remove=True).run(stage.packages, [ST2])
    assert not stage.removed(), "the interrupt's sweep removes every node at once"
    assert "test node kept" not in capsys.readouterr().err


def test_failed_checks_fail_the_stage_with_the_dead_units_logs(stage: Stage) -> None:
    stage.node.answers["systemctl is-active --quiet st2api"] = (3, "")
    stage.node.answers["journalctl -u st2api"] = (0, "st2api: bad config\n")
    stage.suite.reports["not purge"] = junit(7, failures=1, errors=1)
    with pytest.raises(StageError) as info:
        stage.verifier().run(stage.packages, [ST2])
    message = str(info.value)
    reports = stage.run.opts.output / "bookworm" / "reports"
    assert message.startswith(f"2 checks failed (see {reports / 'junit.xml'})\n--- st2api ---\n"
                              "st2api is not running (init systemd)")
    assert "st2api: bad config" in message
    assert stage.suite.selections == ["not purge"], "purge is not tried after failed checks"
    assert [s for s, _ in stage.steps()][-2:] == ["start", "testinfra"]
    assert not stage.removed()


def test_a_dead_unit_alone_is_recorded_not_fatal(stage: Stage) -> None:
    stage.node.answers["systemctl is-active --quiet st2timersengine"] = (3, "")
    result = stage.verifier().run(stage.packages, [ST2])
    assert list(result.dead_units) == ["st2timersengine"]
    assert stage.removed()


def test_a_suite_that_writes_no_report_fails_the_stage(stage: Stage) -> None:
    stage.suite.reports["purge"] = None
    with pytest.raises(StageError, match=r"^the testinfra suite wrote no report \(.*/reports/"
                                         r"junit-purge.xml\)$"):
        stage.verifier().run(stage.packages, [ST2CLIENT])
    assert stage.steps()[-1] == ("purge", False)


def test_junit_errors_count_as_failed(tmp_path: Path) -> None:
    report = tmp_path / "junit.xml"
    report.write_text('<testsuites><testsuite tests="10" failures="2" errors="1" skipped="3"/>'
                      '<testsuite tests="4" skipped="1"/></testsuites>')
    assert read_junit(report) == Counts(passed=7, failed=3, skipped=4)
    report.write_text('<testsuite tests="3" errors="3"/>')
    assert read_junit(report) == Counts(passed=0, failed=3, skipped=0)
