"""The application layer's end of a run over the fake engine: every failed distro is named,
the exit code is the worst of theirs, the summary is published first, and an interrupt
sweeps what this run made (and only that)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.unit.fakes import FakeEngine, context

from st2pkg.app import _raise_failures, _summarize, _sweep
from st2pkg.errors import StageError, UnavailableError
from st2pkg.runner import Cancelled, Outcome, interruptible
from st2pkg.summary import DistroRun


def outcome(distro: str, error: BaseException | None = None) -> Outcome[DistroRun]:
    return Outcome(distro, None if error else DistroRun(), error)


def test_no_failure_raises_nothing() -> None:
    _raise_failures([outcome("bookworm"), outcome("trixie")], "run")


def test_every_failed_distro_is_named_and_the_worst_code_wins() -> None:
    outcomes = [outcome("bookworm"),
                outcome("jammy", UnavailableError("registry image ubuntu:jammy cannot be pulled")),
                outcome("trixie", StageError("build-st2 failed"))]
    with pytest.raises(StageError) as info:
        _raise_failures(outcomes, "run")
    assert str(info.value) == ("run failed for 2 of 3 distros:\n"
                               "  jammy: registry image ubuntu:jammy cannot be pulled\n"
                               "  trixie: build-st2 failed")
    assert info.value.exit_code == 3


@pytest.mark.parametrize(("error", "code"), [
    (RuntimeError("a bug"), 1), (Cancelled("interrupted"), 130), (StageError("x"), 1)])
def test_the_exit_code_is_at_least_one(error: BaseException, code: int) -> None:
    with pytest.raises(StageError) as info:
        _raise_failures([outcome("bookworm", error)], "up")
    assert info.value.exit_code == code
    assert str(info.value).startswith("up failed for 1 of 1 distros:\n  bookworm: ")


def test_summarize_publishes_then_fails_naming_the_failed_step(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ctx = context(tmp_path, FakeEngine())
    with ctx.reporter.step("bookworm", "build-st2client"):
        pass
    error = StageError("dpkg-buildpackage exited 2")
    with pytest.raises(StageError), ctx.reporter.step("trixie", "build-st2client"):
        raise error
    with pytest.raises(StageError, match="run failed for 1 of 2 distros:\n  trixie: dpkg"):
        _summarize(ctx, [outcome("bookworm"), outcome("trixie", error)])
    rows = {r["distro"]: r for r in
            json.loads((tmp_path / "build" / "summary.json").read_text())["distros"]}
    assert rows["bookworm"]["ok"] is True
    log = tmp_path / "build" / "trixie" / "logs" / "build-st2client.log"
    assert rows["trixie"]["failed_log"] == str(log)
    assert "FAILED: dpkg-buildpackage exited 2" in log.read_text()
    assert f"log: {log}" in capsys.readouterr().out


def test_summarize_of_a_green_run_raises_nothing(tmp_path: Path) -> None:
    ctx = context(tmp_path, FakeEngine())
    _summarize(ctx, [outcome("bookworm")])
    summary = json.loads((tmp_path / "build" / "summary.json").read_text())
    assert summary["run"] == ctx.state.id
    assert [r["ok"] for r in summary["distros"]] == [True]


def test_an_interrupt_sweeps_this_runs_containers_only(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    fake = FakeEngine()
    ctx = context(tmp_path, fake)
    fake.add_container("mine-build", **{"st2pkg.run": ctx.state.id})
    fake.add_container("other-run", **{"st2pkg.run": "20260101000000-beef"})
    with pytest.raises(Cancelled, match="everything this run started was removed"), \
            interruptible(_sweep(ctx)):
        raise KeyboardInterrupt
    assert list(fake.running) == ["other-run"]
    assert f"removed run {ctx.state.id}: 1 containers" in capsys.readouterr().err
