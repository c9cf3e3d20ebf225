"""The build stage's cache decisions without Docker: a distro whose every job is in the
artifact cache publishes without starting a node, --force builds anyway, and the cache key
follows every input of a build. Compose is a stand-in on PATH, the engine the fake one (the
builds themselves: tests/integration)."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
from tests.unit.fakes import CATALOG, FakeCompose, FakeEngine, context, fake_compose

from st2pkg.artifacts import Artifact, ArtifactCache
from st2pkg.build import Builder, Job, plan_jobs
from st2pkg.context import RunContext
from st2pkg.errors import StageError
from st2pkg.paths import RECIPES_DIR
from st2pkg.recipes import load
from st2pkg.vcs import Requirements

BOOKWORM = CATALOG.get("bookworm")
RECIPES = [load("st2", RECIPES_DIR), load("st2client", RECIPES_DIR)]
VERSIONS = {"st2": "3.9.0", "st2client": "3.9.0"}
REQS = {"st2": Requirements(("pika==1.3.2",)), "st2client": Requirements(("six",))}


@pytest.fixture
def compose(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> FakeCompose:
    return fake_compose(tmp_path, monkeypatch)


def jobs(rpm_check: bool = True) -> list[Job]:
    return plan_jobs(BOOKWORM, RECIPES, VERSIONS, REQS, rpm_check)


def artifact(job: Job) -> Artifact:
    name = f"{job.recipe.name}-{job.format}.{job.format}"
    return Artifact(file=name, recipe=job.recipe.name, name=job.recipe.name,
                    version=job.version, release="1", arch="amd64", format=job.format,
                    kind=job.kind, distro="bookworm", size=5, sha256="", source_url="pypi",
                    source_revision=job.version, source_commit="", build_seconds=1.0)


def cache_every_job(tmp_path: Path, run: RunContext, fake: FakeEngine,
                    planned: list[Job]) -> None:
    """Put each job's artifact in the cache under the key this run's Builder gives it."""
    image = run.images.node(BOOKWORM, "build", print)
    image_id = fake.image_id(image.ref)
    assert image_id is not None
    builder = Builder(run, BOOKWORM, None, planned, force=False)
    made = tmp_path / "made"
    made.mkdir()
    for job in planned:
        entry = artifact(job)
        (made / entry.file).write_bytes(b"built")
        ArtifactCache(run.opts.cache_dir).put(builder._key(job, image_id), [made / entry.file],
                                              [entry])


def test_a_full_cache_hit_publishes_without_starting_a_node(tmp_path: Path,
                                                            compose: FakeCompose) -> None:
    fake = FakeEngine(registry={"debian:bookworm": {}})
    run = context(tmp_path, fake)
    planned = jobs()
    cache_every_job(tmp_path, run, fake, planned)
    builds = len(fake.builds)
    result = Builder(run, BOOKWORM, None, planned, force=False).run()
    assert compose.calls == []
    assert (fake.running, fake.commands, len(fake.builds)) == ({}, [], builds)
    assert [(a.file, a.cached) for a in result.artifacts] == [
        (artifact(j).file, True) for j in planned]
    assert not result.node_kept
    out = run.opts.output / "bookworm"
    assert result.manifest == out / "manifest.json"
    manifest = json.loads(result.manifest.read_text())
    assert [e["path"] for e in manifest["artifacts"]] == [
        "st2-deb.deb", "st2client-deb.deb", "rpm-check/st2-rpm.rpm", "rpm-check/st2client-rpm.rpm"]
    assert (out / "st2client-deb.deb").read_bytes() == b"built"
    assert [(r.stage, r.ok) for r in run.reporter.results] == [("images", True),
                                                               ("publish", True)]


def test_force_builds_what_the_cache_holds(tmp_path: Path, compose: FakeCompose) -> None:
    fake = FakeEngine(registry={"debian:bookworm": {}})
    run = context(tmp_path, fake)
    planned = jobs()
    cache_every_job(tmp_path, run, fake, planned)
    compose.fail("up")
    with pytest.raises(StageError, match=r"^compose up for "):
        Builder(run, BOOKWORM, None, planned, force=True).run()
    assert compose.subcommands() == ["up --no-start --force-recreate build",
                                     "down --volumes --remove-orphans --timeout 5"]
    assert not (run.opts.output / "bookworm" / "manifest.json").exists()


def test_one_job_missing_from_the_cache_starts_the_build_node(tmp_path: Path,
                                                              compose: FakeCompose) -> None:
    fake = FakeEngine(registry={"debian:bookworm": {}})
    run = context(tmp_path, fake)
    cache_every_job(tmp_path, run, fake, jobs(rpm_check=False))
    compose.fail("up")
    with pytest.raises(StageError, match=r"^compose up for "):
        Builder(run, BOOKWORM, None, jobs(rpm_check=True), force=False).run()
    assert compose.subcommands()[0] == "up --no-start --force-recreate build"


def test_the_artifact_key_follows_every_input(tmp_path: Path, compose: FakeCompose) -> None:
    (job, *_) = jobs()
    first = tmp_path / "one"
    first.mkdir()
    builder = Builder(context(first, FakeEngine()), BOOKWORM, None, [job], force=False)
    key = builder._key(job, "sha256:aa")
    assert builder._key(job, "sha256:aa") == key
    changed = {
        "version": builder._key(replace(job, version="3.9.1"), "sha256:aa"),
        "requirements": builder._key(replace(job, requirements=Requirements(("pika==1.3.3",))),
                                     "sha256:aa"),
        "format": builder._key(replace(job, format="rpm", kind="rpm-check"), "sha256:aa"),
        "image id": builder._key(job, "sha256:bb"),
    }
    other = tmp_path / "two"
    other.mkdir()
    released = Builder(context(other, FakeEngine(), "release: 2\n"), BOOKWORM, None, [job],
                       force=False)
    changed["release"] = released._key(job, "sha256:aa")
    assert {what: k != key for what, k in changed.items()} == dict.fromkeys(changed, True)
    assert len(set(changed.values())) == len(changed)
