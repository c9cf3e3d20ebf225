"""What each task does, callable without invoke: the application layer over the stages.
cli.py only forwards to these; each function loads a RunContext and drives stage objects."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from . import services, summary
from .artifacts import read_manifest
from .build import Builder, DistroBuild, plan_jobs
from .config import Options
from .context import RunContext, load
from .errors import ConfigError, St2PkgError, StageError
from .images import ST2_IMAGE
from .nodes import NODE_ROLES, Node, Topology
from .plan import BuildPlan, plan
from .readme import render_readme
from .recipes import Recipe
from .recipes import load as load_recipe
from .runner import Outcome, for_each, interruptible
from .ssh import write_ssh_config
from .summary import DistroRun
from .verify import Verifier

SERVICES_STEP = "services"


def show_config(config: str | None, distros: str | None = None) -> None:
    """Print every option with its value and source, then the selected distros' facts."""
    context = load(config, distros=distros)
    rows = context.opts.describe()
    width = max(len(name) for name, _, _ in rows)
    print(f"# config file: {context.opts.config_file or '(none)'}")
    for name, value, source in rows:
        print(f"{name:<{width}}  {value}  [{source}]")
    for name in context.opts.distros:
        d = context.distro(name)
        print(f"\n[{d.name}] family={d.family} format={d.format} version={d.version} "
              f"python={d.python} abi={d.python_abi} init={d.init} image={d.image} "
              f"bootstrap={d.bootstrap or '-'}")


def list_distros(config: str | None) -> None:
    """Print the catalog and whether each distro can be provisioned on this machine."""
    context = load(config)
    for d in context.catalog.distros.values():
        ok, how = context.images.can_provision(d)
        print(f"{d.name:<9} {d.family:<7} {d.format}  python {d.python:<5} "
              f"{'yes' if ok else 'NO '}  {how}")


def _service_images(context: RunContext) -> dict[str, services.ServiceImage]:
    with context.reporter.step(SERVICES_STEP, "images") as log:
        chosen = services.resolve(context.docker, context.images, context.catalog,
                                  context.opts, log)
    for image in chosen.values():
        context.reporter.say(SERVICES_STEP, image.name, image.how)
    return chosen


def _sweep(context: RunContext) -> Callable[[], None]:
    run_id = context.state.id

    def sweep() -> None:
        counts = context.docker.remove_labelled(f"st2pkg.run={run_id}")
        context.reporter.note(f"removed run {run_id}: {counts['containers']} containers, "
                              f"{counts['networks']} networks")
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


def _up_one(context: RunContext, chosen: dict[str, services.ServiceImage],
            name: str) -> dict[str, Node]:
    distro = context.distro(name)
    with context.reporter.step(name, "images") as log:
        node_images = {}
        for role in NODE_ROLES:
            made = context.images.node(distro, role, log)  # type: ignore[arg-type]
            node_images[role] = made.ref
            context.reporter.say(name, "images", f"{role} node {made.ref}: {made.how}")
    topology = Topology(context, distro, node_images, chosen)
    with context.reporter.step(name, "up") as log:
        return topology.up(NODE_ROLES, log)


def up(config: str | None, distros: str | None) -> None:
    """Bring up build and test nodes plus services for each distro, and leave them running."""
    context = load(config, distros=distros)
    context.check_provisionable(context.opts.distros)
    with interruptible(_sweep(context)):
        chosen = _service_images(context)
        outcomes = for_each(context.opts.distros, context.opts.jobs,
                            lambda name: _up_one(context, chosen, name))
    context.reporter.close()
    nodes = [n for o in outcomes for n in (o.value or {}).values()]
    ssh_config = write_ssh_config(context.state, {n.key_name: n.port for n in nodes}) \
        if nodes else None
    for node in nodes:
        print(f"[{node.distro}] {node.role} node: {node.container} ssh root@127.0.0.1 -p "
              f"{node.port} (init: {node.init})  ->  st2pkg shell --distro={node.distro} "
              f"--node={node.role}")
    print(f"run {context.state.id}: state in {context.state.dir}")
    if ssh_config:
        print(f"plain OpenSSH works too: ssh -F {ssh_config} <distro>-<build|test>")
    _raise_failures(outcomes, "up")


def _builder(context: RunContext, build_plan: BuildPlan, name: str, force: bool) -> Builder:
    distro = context.distro(name)
    jobs = plan_jobs(distro, build_plan.recipes, build_plan.versions, build_plan.requirements,
                     context.opts.rpm_check)
    return Builder(context, distro, build_plan.source, jobs, force)


def _summarize(context: RunContext, outcomes: Sequence[Outcome[DistroRun]]) -> None:
    context.reporter.close()
    rows = [summary.row(o, [r for r in context.reporter.results if r.distro == o.distro])
            for o in outcomes]
    summary.publish(context.state.id, rows, context.opts.output)
    _raise_failures(outcomes, "run")


def build(config: str | None, distros: str | None, packages: str | None, jobs: int | None,
          output: str | None, force: bool, rpm_check: bool | None) -> None:
    """Build the packages for each distro in parallel and publish them under output/."""
    context = load(config, distros=distros, packages=packages, jobs=jobs, output=output,
                   rpm_check=rpm_check)
    context.check_output()
    build_plan = plan(context)

    def one(name: str) -> DistroRun:
        return DistroRun(build=_builder(context, build_plan, name, force).run())

    with interruptible(_sweep(context)):
        outcomes = for_each(context.opts.distros, context.opts.jobs, one)
    _summarize(context, outcomes)


def _published(opts: Options, distro: str,
               packages_given: bool) -> tuple[list[Path], list[Recipe], dict[str, str]]:
    """Package files, their recipes and each recipe's version, as a previous build
    published them for ``distro``."""
    manifest = opts.output / distro / "manifest.json"
    if not manifest.is_file():
        raise ConfigError(f"no artifacts in {manifest.parent}: run `st2pkg build "
                          f"--distro={distro}` first (or give the --output it used)")
    entries = [e for e in read_manifest(manifest)
               if e["kind"] == "package" and (not packages_given or e["recipe"] in opts.packages)]
    if not entries:
        raise ConfigError(f"{manifest} lists no package of {', '.join(opts.packages)}; build "
                          "them first, or leave --package out")
    versions = {str(e["recipe"]): str(e["version"]) for e in entries}
    return ([manifest.parent / str(e["path"]) for e in entries],
            [load_recipe(n, opts.recipes_dir) for n in versions], versions)


def test(config: str | None, distros: str | None, packages: str | None, keep: bool,
         remove: bool) -> None:
    """Verify already built packages of each distro on its test node."""
    context = load(config, distros=distros, packages=packages)
    context.check_output()
    # What was built is input too: every distro's packages are found before anything starts.
    published = {name: _published(context.opts, name, packages is not None)
                 for name in context.opts.distros}
    context.check_provisionable(context.opts.distros)
    with interruptible(_sweep(context)):
        chosen = _service_images(context)

        def one(name: str) -> DistroRun:
            files, recipes, _ = published[name]
            verifier = Verifier(context, context.distro(name), chosen, keep=keep, remove=remove)
            return DistroRun(verify=verifier.run(files, recipes))

        outcomes = for_each(context.opts.distros, context.opts.jobs, one)
    _summarize(context, outcomes)


def pipeline(config: str | None, distros: str | None, packages: str | None, jobs: int | None,
             output: str | None, force: bool, rpm_check: bool | None, keep: bool,
             remove: bool) -> None:
    """Build, then verify, each distro; distros run in parallel and independently."""
    context = load(config, distros=distros, packages=packages, jobs=jobs, output=output,
                   rpm_check=rpm_check)
    context.check_output()
    build_plan = plan(context)
    with interruptible(_sweep(context)):
        chosen = _service_images(context)

        def one(name: str) -> DistroRun:
            built: DistroBuild = _builder(context, build_plan, name, force).run()
            run = DistroRun(build=built)
            files = [context.opts.output / name / a.file for a in built.artifacts
                     if a.kind == "package"]
            verifier = Verifier(context, context.distro(name), chosen, keep=keep, remove=remove)
            run.verify = verifier.run(files, build_plan.recipes)
            return run

        outcomes = for_each(context.opts.distros, context.opts.jobs, one)
    _summarize(context, outcomes)


def clean(config: str | None, everything: bool) -> None:
    """Remove the containers, networks and volumes of this checkout's runs (its state_dir);
    with ``everything``, those of every st2pkg run on this engine, st2pkg images and caches."""
    context = load(config)
    runs_dir = context.opts.state_dir / "runs"
    labels = ["st2pkg.run"] if everything else [
        f"st2pkg.run={p.name}" for p in sorted(runs_dir.glob("*")) if p.is_dir()]
    totals = {"containers": 0, "networks": 0, "volumes": 0}
    for label in labels:
        for kind, count in context.docker.remove_labelled(label).items():
            totals[kind] += count
    print(f"removed {totals['containers']} containers, {totals['networks']} networks, "
          f"{totals['volumes']} volumes of {'all st2pkg runs' if everything else 'this checkout'}")
    shutil.rmtree(runs_dir, ignore_errors=True)
    if everything:
        removed = context.docker.remove_images("st2pkg/")
        print(f"removed {len(removed)} images")
        shutil.rmtree(context.opts.cache_dir, ignore_errors=True)
        print(f"removed cache {context.opts.cache_dir}")


def write_docs(readme: Path) -> None:
    """Rewrite the option table of ``readme`` (a checkout's README.md)."""
    if not readme.is_file():
        raise ConfigError(f"{readme}: no such file; run `st2pkg docs` at a checkout's top")
    readme.write_text(render_readme(readme.read_text(encoding="utf-8")), encoding="utf-8")
    print(f"updated {readme}")


def st2image(config: str | None, distro: str) -> None:
    """Make st2pkg/st2:<version>-<distro> (and :<distro>) from the distro's st2 package."""
    context = load(config, distros=distro, packages="st2")
    if len(context.opts.distros) != 1:
        raise ConfigError("--distro: st2image takes exactly one distro")
    name = context.opts.distros[0]
    files, _, versions = _published(context.opts, name, packages_given=True)
    with context.reporter.step(name, "st2image") as log:
        made = context.images.st2(context.distro(name), files, versions["st2"], log)
    context.reporter.close()
    print(f"{made.ref} ({made.how}), also tagged {ST2_IMAGE}:{name}: use it as a pack image "
          f"base, e.g. base: {{image: {ST2_IMAGE}, tags: [\"{name}\"]}}")
