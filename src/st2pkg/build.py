"""The build stage: per distro, reuse cached artifacts or build the packages on the distro's
build node over SSH, then publish them. Distros run in parallel; one failing never stops or
hides the others."""

from __future__ import annotations

import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from fabric import Connection

from .artifacts import Artifact, ArtifactCache, Kind, publish, sha256_of
from .distros import Distro, Format
from .errors import StageError
from .formats import FORMATS
from .imagecache import content_hash
from .nodes import Topology
from .recipes import Recipe, recipes_hash
from .remote import NodeSession, Remote
from .runner import cancelling
from .source import Source
from .vcs import Requirements
from .wheelhouse import Wheelhouse

if TYPE_CHECKING:
    from .context import RunContext

OUT = "/build/out"


@dataclass(frozen=True)
class Job:
    """One package to produce in one format (the distro's own, or an rpm spec check)."""

    recipe: Recipe
    version: str
    format: Format
    kind: Kind
    requirements: Requirements


@dataclass
class DistroBuild:
    """What happened to one distro."""

    distro: str
    artifacts: list[Artifact] = field(default_factory=list)
    manifest: Path | None = None
    node_kept: bool = False


class Builder:
    """Builds every job of one distro."""

    def __init__(self, context: RunContext, distro: Distro, source: Source | None,
                 jobs: Sequence[Job], force: bool) -> None:
        self.context = context
        self.docker, self.images, self.reporter = context.docker, context.images, context.reporter
        self.opts, self.state, self.compose = context.opts, context.state, context.compose
        self.distro, self.source, self.jobs, self.force = distro, source, jobs, force
        self.cache = ArtifactCache(self.opts.cache_dir)
        self.out_dir = self.opts.output / distro.name

    def run(self) -> DistroBuild:
        """Produce and publish every job's artifacts (cached where inputs are unchanged)."""
        name = self.distro.name
        result = DistroBuild(name)
        with self.reporter.step(name, "images") as log:
            image = self.images.node(self.distro, "build", log)
            self.reporter.say(name, "images", f"build node {image.ref}: {image.how}")
        image_id = self.docker.image_id(image.ref) or image.ref
        done: list[tuple[Path, Artifact]] = []
        pending: list[tuple[Job, str]] = []
        for job in self.jobs:
            key = self._key(job, image_id)
            hit = None if self.force else self.cache.get(key)
            if hit is None:
                pending.append((job, key))
                continue
            folder, entries = hit
            self.reporter.say(name, f"build-{job.recipe.name}",
                              f"{job.format} cached: inputs unchanged, nothing built "
                              f"({', '.join(e.file for e in entries)})")
            done += [(folder / e.file, replace(e, cached=True)) for e in entries]
        failures: list[str] = []
        if pending:
            done += self._build(image.ref, pending, result, failures)
        result.artifacts = [a for _, a in done]
        with self.reporter.step(name, "publish"):
            result.manifest = publish(self.out_dir, name, done)
        if failures:
            raise StageError("; ".join(failures))
        return result

    def _key(self, job: Job, image_id: str) -> str:
        source = self.source.tree if (self.source and job.recipe.needs_source) else "pypi"
        return content_hash(job.recipe.name, job.format, job.kind, job.version,
                            self.opts.release, self.distro.name, source,
                            job.requirements.key_text(), recipes_hash(self.opts.recipes_dir),
                            image_id)

    def _build(self, image: str, pending: list[tuple[Job, str]], result: DistroBuild,
               failures: list[str]) -> list[tuple[Path, Artifact]]:
        """Build every pending job on one build node; a failed job is recorded in
        ``failures`` and the next job still runs."""
        name = self.distro.name
        topology = Topology(self.context, self.distro, {"build": image}, {})
        with self.reporter.step(name, "up") as log:
            node = topology.up(["build"], log)["build"]
        built: list[tuple[Path, Artifact]] = []
        try:
            with node.connect(self.state) as conn:
                self._upload(conn)
                wheelhouse = Wheelhouse(self.opts.cache_dir, self.distro)
                for job, key in pending:
                    try:
                        built += self._one(conn, wheelhouse, job, key)
                    except StageError as err:
                        failures.append(f"{job.recipe.name} ({job.format}): {err}")
        except BaseException:
            if not cancelling():
                self._keep(result)
            raise
        if failures:
            self._keep(result)
        else:
            with self.reporter.step(name, "down") as log:
                topology.down(log)
        return built

    def _keep(self, result: DistroBuild) -> None:
        result.node_kept = True
        name = self.distro.name
        self.reporter.say(name, "build", f"build node kept for debugging: st2pkg shell "
                          f"--distro={name} --node=build (st2pkg clean removes it)")

    def _upload(self, conn: Connection) -> None:
        with self.reporter.step(self.distro.name, "upload") as log:
            node = NodeSession(conn, log)
            node.run("rm -rf /build && mkdir -p /build/src /build/out")
            node.put_tree({"recipes": self.opts.recipes_dir}, "/build")
            if self.source is not None:
                with tempfile.TemporaryDirectory() as tmp:
                    tar = self.source.archive(Path(tmp) / "source.tar")
                    log(f"source {self.source.shown_url} {self.source.rev} = "
                        f"{self.source.commit}")
                    node.put_tar(tar, "/build/src")

    def _env(self, job: Job) -> dict[str, str]:
        return {"ST2PKG_VERSION": job.version, "ST2PKG_RELEASE": self.opts.release,
                "ST2PKG_FORMAT": job.format, "ST2PKG_DISTRO": self.distro.name,
                "ST2PKG_PYTHON": f"python{self.distro.python}"}

    def _one(self, conn: Connection, wheelhouse: Wheelhouse, job: Job,
             key: str) -> list[tuple[Path, Artifact]]:
        distro, recipe = self.distro.name, job.recipe.name
        env = self._env(job)
        with self.reporter.step(distro, f"wheels-{recipe}") as log:
            wheels = NodeSession(conn, log)
            wheelhouse.upload(wheels)
            if wheelhouse.complete(job.requirements):
                log("requirement set already complete in the wheelhouse: nothing downloaded")
            else:
                wheelhouse.fill(wheels, job.requirements)
            wheelhouse.install(wheels, job.requirements)
        stage = f"{'build' if job.kind == 'package' else 'rpm-check'}-{recipe}"
        started = time.monotonic()
        with self.reporter.step(distro, stage) as log:
            node = NodeSession(conn, log)
            node.run("rm -rf %s && mkdir -p %s", OUT, OUT)
            node.run("/build/recipes/scripts/build-package %s", recipe, env=env,
                     what=f"build-package {recipe} ({job.format})")
            seconds = round(time.monotonic() - started, 1)
            return self._collect(node, job, key, seconds)

    def _collect(self, node: Remote, job: Job, key: str,
                 seconds: float) -> list[tuple[Path, Artifact]]:
        fmt = FORMATS[job.format]
        names = node.run("cd %s && ls -1 -- *%s", OUT, fmt.suffix).stdout.split()
        src = self.source if job.recipe.needs_source else None
        with tempfile.TemporaryDirectory() as tmp:
            files = node.get_files(OUT, names, Path(tmp))
            entries = []
            for path in files:
                ident = fmt.identify(node, f"{OUT}/{path.name}")
                entries.append(Artifact(
                    file=path.name, recipe=job.recipe.name, name=ident.name,
                    version=ident.version, release=ident.release, arch=ident.arch,
                    format=job.format, kind=job.kind, distro=self.distro.name,
                    size=path.stat().st_size, sha256=sha256_of(path),
                    source_url=src.shown_url if src else f"pypi:{job.recipe.name}",
                    source_revision=src.rev if src else job.version,
                    source_commit=src.commit if src else "", build_seconds=seconds,
                    vcs_requirements=[v.record() for v in job.requirements.vcs]))
            folder = self.cache.put(key, files, entries)
        return [(folder / e.file, e) for e in entries]


def plan_jobs(distro: Distro, recipes: Sequence[Recipe], versions: dict[str, str],
              requirements: dict[str, Requirements], rpm_check: bool) -> list[Job]:
    """The jobs of one distro: each package in the distro's format, plus, when ``rpm_check``
    is on, a spec-check build in the format its build nodes can also check (rpm on deb)."""
    formats: list[tuple[Format, Kind]] = [(distro.format, "package")]
    check = FORMATS[distro.format].spec_check
    if rpm_check and check is not None:
        formats.append((check, "rpm-check"))
    return [Job(r, versions[r.name], fmt, kind, requirements[r.name])
            for fmt, kind in formats for r in recipes]

