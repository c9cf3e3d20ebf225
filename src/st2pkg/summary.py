"""The end of a run: one row per distro (steps, artifacts, tests, the failure and its log),
rendered for the terminal, written as summary.json, and as Markdown into GitHub's job
summary when $GITHUB_STEP_SUMMARY names one."""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .artifacts import Artifact, write_atomic
from .build import DistroBuild
from .redact import redact_text
from .report import StepResult
from .runner import Outcome
from .verify import VerifyResult

RPM_CHECK_NOTE = "[rpm spec check on a Debian node]"


@dataclass
class DistroRun:
    """Build and/or verify results of one distro."""

    build: DistroBuild | None = None
    verify: VerifyResult | None = None


def _artifact(a: Artifact) -> dict[str, Any]:
    return {"file": a.file if a.kind == "package" else f"rpm-check/{a.file}", "kind": a.kind,
            "size": a.size, "sha256": a.sha256, "cached": a.cached,
            "build_seconds": round(a.build_seconds, 1)}


def row(outcome: Outcome[DistroRun], steps: Sequence[StepResult]) -> dict[str, Any]:
    """The summary row of one distro, from its outcome and its steps' results."""
    failed = next((r for r in reversed(steps) if not r.ok), None)
    run = outcome.value or DistroRun()
    verify = run.verify
    return {"distro": outcome.distro, "ok": outcome.ok,
            "error": redact_text(str(outcome.error)) if outcome.error else None,
            "failed_step": failed.stage if failed else None,
            "failed_log": str(failed.log) if failed else None,
            "seconds": round(sum(r.seconds for r in steps), 1),
            "steps": [{"stage": r.stage, "ok": r.ok, "seconds": round(r.seconds, 1),
                       "log": str(r.log)} for r in steps],
            "manifest": str(run.build.manifest) if run.build and run.build.manifest else None,
            "artifacts": [_artifact(a) for a in run.build.artifacts] if run.build else [],
            "init": verify.init if verify else None,
            "tests": vars(verify.counts) if verify else None,
            "reports": [str(p) for p in verify.reports] if verify else []}


def text(rows: Sequence[dict[str, Any]]) -> str:
    """The summary as the terminal shows it."""
    lines = ["", "summary"]
    for r in rows:
        status = "ok" if r["ok"] else f"FAILED at {r['failed_step']}"
        tests = r["tests"]
        counts = (f"  tests {tests['passed']} passed, {tests['failed']} failed, "
                  f"{tests['skipped']} skipped (init {r['init']})" if tests else "")
        lines.append(f"  {r['distro']}: {status}{counts}  [{r['seconds']}s]")
        for a in r["artifacts"]:
            how = "cached" if a["cached"] else f"built in {a['build_seconds']:.0f}s"
            note = f"  {RPM_CHECK_NOTE}" if a["kind"] != "package" else ""
            lines.append(f"    {a['file']}  {a['size']} bytes  sha256 {a['sha256'][:12]}  "
                         f"{how}{note}")
        if not r["ok"]:
            lines.append(f"    {r['error']}\n    log: {r['failed_log']}")
    return "\n".join(lines)


def markdown(run_id: str, rows: Sequence[dict[str, Any]]) -> str:
    """The summary as a Markdown table (GitHub's job summary)."""
    lines = [f"### st2pkg run {run_id}", "", "| distro | result | tests | seconds | log |",
             "|---|---|---|---|---|"]
    for r in rows:
        tests = r["tests"]
        counts = (f"{tests['passed']} passed, {tests['failed']} failed, "
                  f"{tests['skipped']} skipped" if tests else "-")
        result = "ok" if r["ok"] else f"FAILED at {r['failed_step']}"
        lines.append(f"| {r['distro']} | {result} | {counts} | {r['seconds']} | "
                     f"{r['failed_log'] or '-'} |")
    return "\n".join(lines) + "\n"


def publish(run_id: str, rows: Sequence[dict[str, Any]], output: Path) -> Path:
    """Print the summary, write output/summary.json (atomically) and GitHub's job summary."""
    path = output / "summary.json"
    write_atomic(path, json.dumps({"run": run_id, "distros": list(rows)}, indent=2) + "\n")
    print(text(rows) + f"\n  summary: {path}")
    step_summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if step_summary:
        with open(step_summary, "a", encoding="utf-8") as handle:
            handle.write(markdown(run_id, rows))
    return path
