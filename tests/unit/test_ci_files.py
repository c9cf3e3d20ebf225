"""The CI definitions call the same tasks users run, for the whole distro matrix."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from st2pkg.distros import Catalog

ROOT = Path(__file__).resolve().parents[2]
WORKFLOW = ROOT / ".github" / "workflows" / "packages.yml"


def test_workflow_passes_actionlint() -> None:
    beside = Path(sys.executable).parent / "actionlint"
    actionlint = str(beside) if beside.is_file() else shutil.which("actionlint")
    if actionlint is None:
        pytest.skip("actionlint is not installed (./bootstrap installs it from requirements.lock)")
    proc = subprocess.run([actionlint, "-no-color", str(WORKFLOW)], capture_output=True,
                          text=True, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_workflow_matrix_is_the_catalog_and_uploads_results() -> None:
    flow = yaml.safe_load(WORKFLOW.read_text())
    job = flow["jobs"]["pipeline"]
    assert sorted(job["strategy"]["matrix"]["distro"]) == sorted(Catalog.load().distros)
    runs = [s.get("run", "") for s in job["steps"]]
    assert any("./bootstrap st2pkg pipeline" in r for r in runs)
    uploads = [s for s in job["steps"] if str(s.get("uses", "")).startswith(
        "actions/upload-artifact")]
    paths = "\n".join(s["with"]["path"] for s in uploads)
    assert "SHA256SUMS" in paths
    assert "reports/" in paths
    assert any("./bootstrap pytest" in s.get("run", "") for s in flow["jobs"]["tests"]["steps"])


def drone_docs() -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all((ROOT / ".drone.yml").read_text()) if d]


def test_drone_structure() -> None:
    docs = drone_docs()
    names = [d["name"] for d in docs]
    assert len(names) == len(set(names))
    for doc in docs:
        assert doc["kind"] == "pipeline"
        assert doc["type"] == "docker"
        volumes = {v["name"] for v in doc.get("volumes", [])}
        for step in doc["steps"]:
            assert {"name", "image", "commands"} <= set(step)
            assert all(isinstance(c, str) for c in step["commands"])
            assert {v["name"] for v in step.get("volumes", [])} <= volumes
        for dep in doc.get("depends_on", []):
            assert dep in names


def test_drone_runs_the_same_tasks_for_the_catalog() -> None:
    commands = "\n".join(c for d in drone_docs() for s in d["steps"] for c in s["commands"])
    assert "./bootstrap pytest" in commands
    line = next(c for c in commands.splitlines() if "st2pkg pipeline" in c)
    distros = line.split("--distro=")[1].split()[0].split(",")
    assert sorted(distros) == sorted(Catalog.load().distros)
