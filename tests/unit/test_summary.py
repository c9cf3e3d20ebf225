"""The end-of-run summary as users read it: the terminal text, summary.json and GitHub's job
summary, for a green distro, a failed one and rpm spec-check artifacts."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from st2pkg.artifacts import Artifact
from st2pkg.build import DistroBuild
from st2pkg.errors import StageError
from st2pkg.report import StepResult
from st2pkg.runner import Outcome
from st2pkg.summary import RPM_CHECK_NOTE, DistroRun, markdown, publish, row, text
from st2pkg.verify import Counts, VerifyResult


def artifact(file: str, kind: str = "package", cached: bool = False) -> Artifact:
    return Artifact(file=file, recipe="st2client", name="st2client", version="3.9.0",
                    release="1", arch="amd64", format="deb", kind=kind,  # type: ignore[arg-type]
                    distro="bookworm", size=1234, sha256="ab" * 32,
                    source_url="", source_revision="", source_commit="",
                    build_seconds=41.6, cached=cached)


def step(out: Path, distro: str, stage: str, ok: bool = True, seconds: float = 2.0) -> StepResult:
    return StepResult(distro, stage, ok, seconds, "" if ok else "boom",
                      out / distro / "logs" / f"{stage}.log")


def green(out: Path) -> dict[str, Any]:
    build = DistroBuild("bookworm", [artifact("st2client_3.9.0-1_amd64.deb"),
                                     artifact("st2client-3.9.0-1.noarch.rpm", "rpm-check",
                                              cached=True)],
                        manifest=out / "bookworm" / "manifest.json")
    verify = VerifyResult("bookworm", init="systemd", counts=Counts(12, 0, 3),
                          reports=[out / "bookworm" / "reports" / "junit.xml"])
    outcome = Outcome("bookworm", DistroRun(build, verify), None)
    return row(outcome, [step(out, "bookworm", "build-st2client", seconds=40.04),
                         step(out, "bookworm", "testinfra", seconds=5.0)])


def failed(out: Path) -> dict[str, Any]:
    error = StageError("installing st2client failed: dpkg exit 1 "
                       "(fetching https://ci:s3cret@mirror.example.invalid/st2)")
    steps = [step(out, "trixie", "up"), step(out, "trixie", "install", ok=False),
             step(out, "trixie", "purge")]
    return row(Outcome[DistroRun]("trixie", None, error), steps)


def test_a_green_distro_row(tmp_path: Path) -> None:
    r = green(tmp_path)
    assert (r["ok"], r["error"], r["failed_step"], r["failed_log"]) == (True, None, None, None)
    assert r["seconds"] == 45.0
    assert r["tests"] == {"passed": 12, "failed": 0, "skipped": 3}
    assert r["init"] == "systemd"
    assert [a["file"] for a in r["artifacts"]] == [
        "st2client_3.9.0-1_amd64.deb", "rpm-check/st2client-3.9.0-1.noarch.rpm"]


def test_a_failed_distro_names_its_last_failed_step_and_log(tmp_path: Path) -> None:
    r = failed(tmp_path)
    assert r["ok"] is False
    assert r["failed_step"] == "install"
    assert r["failed_log"] == str(tmp_path / "trixie" / "logs" / "install.log")
    assert r["error"] == ("installing st2client failed: dpkg exit 1 "
                          "(fetching https://***@mirror.example.invalid/st2)")
    assert r["artifacts"] == []
    assert r["tests"] is None


def test_terminal_text(tmp_path: Path) -> None:
    shown = text([green(tmp_path), failed(tmp_path)])
    lines = shown.splitlines()
    assert "  bookworm: ok  tests 12 passed, 0 failed, 3 skipped (init systemd)  [45.0s]" in lines
    assert any(line.strip().startswith("st2client_3.9.0-1_amd64.deb  1234 bytes  sha256 "
                                       "abababababab  built in 42s") for line in lines)
    rpm = next(line for line in lines if "noarch.rpm" in line)
    assert rpm.strip().startswith("rpm-check/")
    assert rpm.endswith(f"cached  {RPM_CHECK_NOTE}")
    assert "  trixie: FAILED at install  [6.0s]" in lines
    assert f"    log: {tmp_path / 'trixie' / 'logs' / 'install.log'}" in lines


def test_markdown_table(tmp_path: Path) -> None:
    table = markdown("run-1", [green(tmp_path), failed(tmp_path)]).splitlines()
    assert table[0] == "### st2pkg run run-1"
    assert "| bookworm | ok | 12 passed, 0 failed, 3 skipped | 45.0 | - |" in table
    assert f"| trixie | FAILED at install | - | 6.0 | " \
           f"{tmp_path / 'trixie' / 'logs' / 'install.log'} |" in table


def test_publish_writes_json_and_the_job_summary(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    job_summary = tmp_path / "step-summary.md"
    job_summary.write_text("earlier step\n")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(job_summary))
    out = tmp_path / "out"
    out.mkdir()
    rows = [green(out), failed(out)]
    path = publish("run-1", rows, out)
    assert path == out / "summary.json"
    data = json.loads(path.read_text())
    assert data["run"] == "run-1"
    assert [d["distro"] for d in data["distros"]] == ["bookworm", "trixie"]
    assert sorted(p.name for p in out.iterdir()) == ["summary.json"], "no temporary left over"
    assert job_summary.read_text() == "earlier step\n" + markdown("run-1", rows)
    assert f"  summary: {path}" in capsys.readouterr().out


def test_publish_without_github_writes_no_job_summary(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    publish("run-2", [green(tmp_path)], tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["summary.json"]
