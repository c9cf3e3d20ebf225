"""What each task does, callable without invoke. tasks.py only forwards to these."""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from . import compose, recipes, services, vcs
from . import config as config_module
from .build import Builder, DistroBuild, plan_jobs
from .config import Options, resolve
from .containers import Docker
from .distros import Catalog
from .errors import ConfigError, St2PkgError, StageError, UnavailableError
from .images import ST2_IMAGE, Images
from .nodes import NODE_ROLES, Node, Topology
from .packs import commands as pack_commands
from .paths import ROOT
from .recipes import Recipe
from .redact import redact_text
from .report import Reporter
from .runner import Outcome, for_each, interruptible
from .source import Source, fetch
from .ssh import RunState, connect, write_ssh_config
from .vcs import Requirements
from .verify import Verifier, VerifyResult
from .versions import package_version

SERVICES_STEP = "services"


@dataclass
class Session:
    """Everything one task invocation works with."""

    catalog: Catalog
    opts: Options

    @cached_property
    def docker(self) -> Docker:
        return Docker.from_env()

    @cached_property
    def images(self) -> Images:
        return Images(self.docker, self.opts)

    @cached_property
    def reporter(self) -> Reporter:
        return Reporter(self.opts.output)


def load(config: str | None, **cli: object) -> Session:
    """Load the catalog and resolve options for one task invocation; every option and the
    packages it names are checked here, before anything is written or started."""
    catalog = Catalog.load()
    opts = resolve(catalog, cli=cli, config_file=config)
    for name in opts.packages:
        recipes.load(name, opts.recipes_dir)
    if opts.config_file is not None and not opts.config_keys:
        print(f"note: config file {opts.config_file} sets no option", file=sys.stderr)
    return Session(catalog, opts)


def show_config(config: str | None, distros: str | None = None) -> None:
    """Print every option with its value and source, then the selected distros' facts."""
    session = load(config, distros=distros)
    rows = session.opts.describe()
    width = max(len(name) for name, _, _ in rows)
    print(f"# config file: {session.opts.config_file or '(none)'}")
    for name, value, source in rows:
        print(f"{name:<{width}}  {value}  [{source}]")
    for name in session.opts.distros:
        d = session.catalog.get(name)
        print(f"\n[{d.name}] family={d.family} format={d.format} version={d.version} "
              f"python={d.python} abi={d.python_abi} init={d.init} image={d.image} "
              f"bootstrap={d.bootstrap or '-'}")


def list_distros(config: str | None) -> None:
    """Print the catalog and whether each distro can be provisioned on this machine."""
    session = load(config)
    for d in session.catalog.distros.values():
        ok, how = session.images.can_provision(d)
        print(f"{d.name:<9} {d.family:<7} {d.format}  python {d.python:<5} "
              f"{'yes' if ok else 'NO '}  {how}")


def _check_provisionable(session: Session, names: Sequence[str]) -> None:
    """Fail fast, before anything starts, for distros that cannot be provisioned here."""
    problems = []
    for name in names:
        ok, why = session.images.can_provision(session.catalog.get(name))
        if not ok:
            problems.append(f"{name}: {why}")
    if problems:
        raise UnavailableError("cannot provision on this machine:\n  " + "\n  ".join(problems))


def _service_images(session: Session) -> dict[str, services.ServiceImage]:
    with session.reporter.step(SERVICES_STEP, "images") as log:
        chosen = services.resolve(session.docker, session.images, session.catalog,
                                  session.opts, log)
    for image in chosen.values():
        session.reporter.say(SERVICES_STEP, image.name, image.how)
    return chosen


def _sweep(session: Session, run_id: str) -> Callable[[], None]:
    def sweep() -> None:
        counts = session.docker.remove_labelled(f"st2pkg.run={run_id}")
        print(f"removed run {run_id}: {counts['containers']} containers, "
              f"{counts['networks']} networks", file=sys.stderr)
    return sweep


def _raise_failures(outcomes: Sequence[Outcome[Any]], what: str) -> None:
    failed = [o for o in outcomes if not o.ok]
    if failed:
        lines = [f"{o.distro}: {o.error}" for o in failed]
        codes = {o.error.exit_code for o in failed if isinstance(o.error, St2PkgError)}
        error = StageError(f"{what} failed for {len(failed)} of {len(outcomes)} distros:\n  "
                           + "\n  ".join(lines))
        error.exit_code = max(codes | {1})
        raise error


def up(config: str | None, distros: str | None) -> None:
    """Bring up build and test nodes plus services for each distro, and leave them running."""
    session = load(config, distros=distros)
    names = session.opts.distros
    _check_provisionable(session, names)
    command = compose.find(session.opts.compose)
    state = RunState.create(session.opts.state_dir)
    with interruptible(_sweep(session, state.id)):
        chosen = _service_images(session)

        def one(name: str) -> dict[str, Node]:
            distro = session.catalog.get(name)
            with session.reporter.step(name, "images") as log:
                node_images = {}
                for role in NODE_ROLES:
                    made = session.images.node(distro, role, log)  # type: ignore[arg-type]
                    node_images[role] = made.ref
                    session.reporter.say(name, "images", f"{role} node {made.ref}: {made.how}")
            topology = Topology(session.docker, command, state, distro, node_images, chosen,
                                session.opts.test_init, cgroup_mount=session.opts.cgroup_mount)
            with session.reporter.step(name, "up") as log:
                return topology.up(NODE_ROLES, log)

        outcomes = for_each(names, session.opts.jobs, one)
    session.reporter.close()
    ports = {n.key_name: n.port for o in outcomes for n in (o.value or {}).values()}
    ssh_config = write_ssh_config(state, ports) if ports else None
    for outcome in outcomes:
        for node in (outcome.value or {}).values():
            print(f"[{node.distro}] {node.role} node: {node.container} ssh root@127.0.0.1 -p "
                  f"{node.port} (init: {node.init})  ->  invoke shell --distro={node.distro} "
                  f"--node={node.role}")
    print(f"run {state.id}: state in {state.dir}")
    if ssh_config:
        print(f"plain OpenSSH works too: ssh -F {ssh_config} <distro>-<build|test>")
    _raise_failures(outcomes, "up")


def _versions(recipes: Sequence[Recipe], opts: Options, source: Source | None) -> dict[str, str]:
    versions = {}
    for recipe in recipes:
        if opts.version:
            version = opts.version
        elif source and recipe.needs_source:
            # st2's __version__ is PEP 440 (3.10dev, 3.9.0rc1): mapped so packages sort right.
            version = package_version(source.version(), commit=source.commit,
                                      commit_time=source.commit_time(),
                                      what=f"{source.shown_url}@{source.rev}: __version__")
        else:
            version = recipe.default_version or ""
        if not version:
            raise ConfigError(f"package {recipe.name}: no version known; set ST2PKG_VERSION")
        versions[recipe.name] = version
    return versions


def _requirements(opts: Options, recipe: Recipe, version: str,
                  source: Source | None) -> Requirements:
    """The recipe's requirement set, listed here and with its VCS requirements resolved."""
    with tempfile.TemporaryDirectory() as tmp:
        if source is not None and recipe.needs_source:
            source.export(Path(tmp) / "src", recipes.REQUIREMENT_FILES)
        text = recipes.requirements(recipe, version, Path(tmp))
    found = vcs.resolve(text, opts.cache_dir, opts.git_mirrors)
    for item in found.vcs:
        print(f"requirement {item.req.name}: {item.req.shown_url}@{item.req.ref or 'HEAD'} = "
              f"{item.commit}", file=sys.stderr)
    return found


@dataclass(frozen=True)
class BuildPlan:
    """What a build needs, resolved once before any distro starts (bad input fails here)."""

    recipes: list[Recipe]
    source: Source | None
    versions: dict[str, str]
    requirements: dict[str, Requirements]
    command: list[str]
    state: RunState

    def builder(self, session: Session, name: str, force: bool) -> Builder:
        distro = session.catalog.get(name)
        jobs = plan_jobs(distro, self.recipes, self.versions, self.requirements,
                         session.opts.rpm_check)
        return Builder(session.docker, session.images, session.reporter, session.opts,
                       self.state, self.command, distro, self.source, jobs, force)


def _plan(session: Session) -> BuildPlan:
    opts = session.opts
    chosen = [recipes.load(name, opts.recipes_dir) for name in opts.packages]
    # The source first: a bad URL or revision is bad input, whatever this machine can run.
    source = _source(opts, chosen)
    _check_provisionable(session, opts.distros)
    versions = _versions(chosen, opts, source)
    reqs = {r.name: _requirements(opts, r, versions[r.name], source) for r in chosen}
    return BuildPlan(chosen, source, versions, reqs, compose.find(opts.compose),
                     RunState.create(opts.state_dir))


def build(config: str | None, distros: str | None, packages: str | None, jobs: int | None,
          output: str | None, force: bool, rpm_check: bool | None) -> None:
    """Build the packages for each distro in parallel and publish them under output/."""
    session = load(config, distros=distros, packages=packages, jobs=jobs, output=output,
                   rpm_check=rpm_check)
    plan = _plan(session)
    with interruptible(_sweep(session, plan.state.id)):
        outcomes = for_each(session.opts.distros, session.opts.jobs,
                            lambda name: plan.builder(session, name, force).run())
    _print_build_summary(session, outcomes)
    _raise_failures(outcomes, "build")


def _print_build_summary(session: Session, outcomes: Sequence[Outcome[DistroBuild]]) -> None:
    session.reporter.close()
    print("\nbuild summary")
    for outcome in outcomes:
        if outcome.value is not None:
            print(f"  {outcome.distro}: ok  ({outcome.value.manifest})")
            for a in outcome.value.artifacts:
                note = "cached" if a.cached else f"built in {a.build_seconds:.0f}s"
                label = "" if a.kind == "package" else "  [rpm spec check on a Debian node]"
                print(f"    {a.file}  {a.size} bytes  sha256 {a.sha256[:12]}  {note}{label}")
            continue
        failed = [r for r in session.reporter.results if r.distro == outcome.distro and not r.ok]
        where = f"  log: {failed[-1].log}" if failed else ""
        print(f"  {outcome.distro}: FAILED  {outcome.error}{where}")


def _published(opts: Options, distro: str,
               packages_given: bool) -> tuple[list[Path], list[Recipe]]:
    """Package files (and their recipes) a previous build published for ``distro``."""
    manifest = opts.output / distro / "manifest.json"
    if not manifest.is_file():
        raise StageError(f"no artifacts in {manifest.parent}: run `invoke build "
                         f"--distro={distro}` first")
    entries = [e for e in json.loads(manifest.read_text())["artifacts"]
               if e["kind"] == "package" and (not packages_given or e["recipe"] in opts.packages)]
    if not entries:
        raise StageError(f"{manifest} lists no package of {', '.join(opts.packages)}")
    names = dict.fromkeys(str(e["recipe"]) for e in entries)
    return ([manifest.parent / str(e["path"]) for e in entries],
            [recipes.load(n, opts.recipes_dir) for n in names])


@dataclass
class DistroRun:
    """Build and/or verify results of one distro, for the summary."""

    build: DistroBuild | None = None
    verify: VerifyResult | None = None


def _verifier(session: Session, state: RunState, command: list[str], name: str,
              chosen: dict[str, services.ServiceImage], keep: bool, remove: bool) -> Verifier:
    return Verifier(session.docker, session.images, session.reporter, session.opts, state,
                    command, session.catalog.get(name), chosen, keep, remove)


def test(config: str | None, distros: str | None, packages: str | None, keep: bool,
         remove: bool) -> None:
    """Verify already built packages of each distro on its test node."""
    session = load(config, distros=distros, packages=packages)
    _check_provisionable(session, session.opts.distros)
    command = compose.find(session.opts.compose)
    state = RunState.create(session.opts.state_dir)
    with interruptible(_sweep(session, state.id)):
        chosen = _service_images(session)

        def one(name: str) -> DistroRun:
            files, recipe_names = _published(session.opts, name, packages is not None)
            verifier = _verifier(session, state, command, name, chosen, keep, remove)
            return DistroRun(verify=verifier.run(files, recipe_names))

        outcomes = for_each(session.opts.distros, session.opts.jobs, one)
    _summarize(session, outcomes, state)


def pipeline(config: str | None, distros: str | None, packages: str | None, jobs: int | None,
             output: str | None, force: bool, rpm_check: bool | None, keep: bool,
             remove: bool) -> None:
    """Build, then verify, each distro; distros run in parallel and independently."""
    session = load(config, distros=distros, packages=packages, jobs=jobs, output=output,
                   rpm_check=rpm_check)
    plan = _plan(session)
    with interruptible(_sweep(session, plan.state.id)):
        chosen = _service_images(session)

        def one(name: str) -> DistroRun:
            built = plan.builder(session, name, force).run()
            outcome = DistroRun(build=built)
            files = [session.opts.output / name / a.file for a in built.artifacts
                     if a.kind == "package"]
            verifier = _verifier(session, plan.state, plan.command, name, chosen, keep, remove)
            outcome.verify = verifier.run(files, plan.recipes)
            return outcome

        outcomes = for_each(session.opts.distros, session.opts.jobs, one)
    _summarize(session, outcomes, plan.state)


def _summarize(session: Session, outcomes: Sequence[Outcome[DistroRun]], state: RunState) -> None:
    session.reporter.close()
    rows: list[dict[str, Any]] = []
    print("\nsummary")
    for outcome in outcomes:
        steps = [r for r in session.reporter.results if r.distro == outcome.distro]
        failed_step = next((r for r in reversed(steps) if not r.ok), None)
        run_ = outcome.value or DistroRun()
        verify = run_.verify
        row: dict[str, Any] = {"distro": outcome.distro, "ok": outcome.ok,
               "error": str(outcome.error) if outcome.error else None,
               "failed_step": failed_step.stage if failed_step else None,
               "failed_log": str(failed_step.log) if failed_step else None,
               "seconds": round(sum(r.seconds for r in steps), 1),
               "steps": [{"stage": r.stage, "ok": r.ok, "seconds": round(r.seconds, 1),
                          "log": str(r.log)} for r in steps],
               "artifacts": [a.file if a.kind == "package" else f"rpm-check/{a.file}"
                             for a in run_.build.artifacts] if run_.build else [],
               "init": verify.init if verify else None,
               "tests": vars(verify.counts) if verify else None,
               "reports": [str(p) for p in verify.reports] if verify else []}
        rows.append(row)
        status = "ok" if outcome.ok else f"FAILED at {row['failed_step']}"
        tests = (f"  tests {verify.counts.passed} passed, {verify.counts.failed} failed, "
                 f"{verify.counts.skipped} skipped (init {verify.init})" if verify else "")
        print(f"  {outcome.distro}: {status}{tests}  [{row['seconds']}s]")
        for name in row["artifacts"]:
            note = "  [rpm spec check on a Debian node]" if name.startswith("rpm-check/") else ""
            print(f"    {name}{note}")
        if not outcome.ok:
            print(f"    {outcome.error}\n    log: {row['failed_log']}")
    summary = session.opts.output / "summary.json"
    summary.parent.mkdir(parents=True, exist_ok=True)
    summary.write_text(json.dumps({"run": state.id, "distros": rows}, indent=2) + "\n")
    print(f"  summary: {summary}")
    _raise_failures(outcomes, "run")


def _source(opts: Options, chosen: Sequence[Recipe]) -> Source | None:
    if not any(r.needs_source for r in chosen):
        return None
    source = fetch(opts.st2_giturl, opts.st2_gitrev, opts.cache_dir, opts.git_mirrors)
    print(f"source: {source.shown_url} {source.rev} = {source.commit}", file=sys.stderr)
    return source


def _find_container(session: Session, distro: str, node: str) -> tuple[str, str]:
    found = session.docker.containers({"st2pkg.distro": distro, "st2pkg.role": node})
    running = [c for c in found if c.status == "running"]
    if not running:
        raise ConfigError(f"no running {node} node for {distro}; start one with "
                          f"`invoke up --distro={distro}` (or keep nodes of a pipeline run)")
    newest = max(running, key=lambda c: str(c.attrs["Created"]))
    return str(newest.name), str(newest.labels["st2pkg.run"])


def shell(config: str | None, distro: str, node: str, cmd: str | None) -> int:
    """Open a shell on (or run ``cmd`` on) a node of the newest run; returns the exit code."""
    session = load(config, distros=distro)
    if len(session.opts.distros) != 1:
        raise ConfigError("--distro: shell takes exactly one distro")
    name, run_id = _find_container(session, session.opts.distros[0], node)
    if node in NODE_ROLES:
        state = RunState.load(session.opts.state_dir, run_id)
        port = session.docker.published_port(name)
        with connect(state, f"{session.opts.distros[0]}-{node}", port) as conn:
            if cmd is None:
                conn.shell()
                return 0
            return int(conn.run(cmd, warn=True, pty=sys.stdout.isatty()).exited)
    if cmd is None:
        os.execvp("docker", ["docker", "exec", "-it", name, "sh", "-c",
                             "command -v bash >/dev/null && exec bash || exec sh"])
    code, output = session.docker.exec(name, ["sh", "-c", cmd])
    sys.stdout.write(output)
    return code


def clean(config: str | None, everything: bool) -> None:
    """Remove the containers, networks and volumes of this checkout's runs (its state_dir);
    with ``everything``, those of every st2pkg run on this engine, st2pkg images and caches."""
    session = load(config)
    runs_dir = session.opts.state_dir / "runs"
    labels = ["st2pkg.run"] if everything else [
        f"st2pkg.run={p.name}" for p in sorted(runs_dir.glob("*")) if p.is_dir()]
    totals = {"containers": 0, "networks": 0, "volumes": 0}
    for label in labels:
        for kind, count in session.docker.remove_labelled(label).items():
            totals[kind] += count
    print(f"removed {totals['containers']} containers, {totals['networks']} networks, "
          f"{totals['volumes']} volumes of {'all st2pkg runs' if everything else 'this checkout'}")
    shutil.rmtree(runs_dir, ignore_errors=True)
    if everything:
        removed = session.docker.remove_images("st2pkg/")
        print(f"removed {len(removed)} images")
        shutil.rmtree(session.opts.cache_dir, ignore_errors=True)
        print(f"removed cache {session.opts.cache_dir}")

def _table(rows: Sequence[Sequence[str]], header: Sequence[str]) -> None:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        print("  ".join(str(cell).ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())


def packs_search(config: str | None, query: str, indexes: Sequence[str]) -> None:
    """Print packs of the indexes matching ``query``, best first."""
    session = load(config, pack_indexes=",".join(indexes) or None)
    found = pack_commands.search(query, session.opts.pack_indexes)
    if not found:
        print(f"no pack matches {query!r}")
        return
    _table(found, ("ref", "version", "author", "description"))


def packs_show(config: str | None, name: str, indexes: Sequence[str]) -> None:
    """Print every field of one pack of the indexes."""
    session = load(config, pack_indexes=",".join(indexes) or None)
    _table(pack_commands.show(name, session.opts.pack_indexes), ("field", "value"))


def packs_build(config: str | None, spec: str, indexes: Sequence[str],
                skip_dependencies: bool) -> None:
    """Resolve a pack image spec and build one image per base tag."""
    session = load(config, pack_indexes=",".join(indexes) or None)
    busybox = session.opts.busybox
    if busybox is not None and not busybox.is_file():
        raise ConfigError(f"busybox (ST2PKG_BUSYBOX or the config key): {busybox} is not "
                          "a file; give the path of a static busybox binary, or unset it "
                          "to fetch Debian's busybox-static")
    tags = pack_commands.build(Path(spec), session.opts.pack_indexes, session.opts.cache_dir,
                               session.opts.output / "packs",
                               skip_dependencies=skip_dependencies, busybox=busybox,
                               log=lambda line: print(redact_text(line), file=sys.stderr))
    for tag in tags:
        print(tag)


def write_docs() -> None:
    """Rewrite README.md's generated option table."""
    readme = ROOT / "README.md"
    readme.write_text(config_module.render_readme(readme.read_text(encoding="utf-8")),
                      encoding="utf-8")
    print(f"updated {readme}")


def st2image(config: str | None, distro: str) -> None:
    """Make st2pkg/st2:<version>-<distro> (and :<distro>) from the distro's st2 package."""
    session = load(config, distros=distro, packages="st2")
    if len(session.opts.distros) != 1:
        raise ConfigError("--distro: st2image takes exactly one distro")
    name = session.opts.distros[0]
    files, _ = _published(session.opts, name, packages_given=True)
    manifest = json.loads((session.opts.output / name / "manifest.json").read_text())
    version = next(a["version"] for a in manifest["artifacts"]
                   if a["recipe"] == "st2" and a["kind"] == "package")
    with session.reporter.step(name, "st2image") as log:
        made = session.images.st2(session.catalog.get(name), files, version, log)
    session.reporter.close()
    print(f"{made.ref} ({made.how}), also tagged {ST2_IMAGE}:{name}: use it as a pack image "
          f"base, e.g. base: {{image: {ST2_IMAGE}, tags: [\"{name}\"]}}")
