"""The command line: typed task wrappers over the library, run as `st2pkg <task>` (this
module's Program) or as `invoke <task>` from a checkout (its tasks.py imports ``ns``)."""

from __future__ import annotations

import contextlib
import functools
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

from invoke.collection import Collection
from invoke.context import Context
from invoke.exceptions import Exit, ParseError
from invoke.program import Program
from invoke.tasks import task

from . import __version__, app, lockfile, services
from . import shell as node_shell
from .errors import USAGE, St2PkgError
from .packs import app as packs_app
from .redact import redact_text

F = TypeVar("F", bound=Callable[..., Any])
# An error line never grows past this, whatever value it quotes.
_LINE = 400


def _bounded(message: str) -> str:
    return "\n".join(line if len(line) <= _LINE else line[:_LINE] + "...(cut)"
                     for line in message.splitlines())


def _exits(fn: F) -> F:
    """Turn st2pkg errors into one clear line and their exit code."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except St2PkgError as err:
            # The last guard: whatever built the message, no URL credential leaves here.
            raise Exit(_bounded(f"error: {redact_text(str(err))}"), code=err.exit_code) from err

    return wrapper  # type: ignore[return-value]


@task(help={"config": "Config file (default: st2pkg.yml, or $ST2PKG_CONFIG)."})
@_exits
def distros(c: Context, config: str | None = None) -> None:
    """List the distro catalog and whether each distro can be provisioned on this machine."""
    app.list_distros(config)


@task(help={"distro": "Distro(s), comma-separated, or 'all'.",
            "config": "Config file (default: st2pkg.yml, or $ST2PKG_CONFIG)."})
@_exits
def config(c: Context, distro: str | None = None, config: str | None = None) -> None:
    """Print the resolved options, where each value came from, with credentials redacted."""
    app.show_config(config, distros=distro)


NODE_HELP = f"build, test, or a service: {', '.join(services.names())}."


@task(help={"distro": "Distro(s), comma-separated, or 'all' (default from config).",
            "config": "Config file (default: st2pkg.yml, or $ST2PKG_CONFIG)."})
@_exits
def up(c: Context, distro: str | None = None, config: str | None = None) -> None:
    """Start build and test nodes plus services for each distro and leave them running.

    Services: RabbitMQ, PostgreSQL, Redis, and MongoDB when its image is available. Reach the
    nodes with `st2pkg shell` or `ssh -F .st2pkg/runs/<run>/ssh_config <distro>-<role>`."""
    app.up(config, distro)


@task(help={"distro": "The distro whose newest run to enter.", "node": NODE_HELP,
            "cmd": "Run this command and exit with its code (default: interactive shell).",
            "config": "Config file (default: st2pkg.yml, or $ST2PKG_CONFIG)."})
@_exits
def shell(c: Context, distro: str, node: str = "test", cmd: str | None = None,
          config: str | None = None) -> None:
    """Open a shell on a running node over SSH (pinned host key), or run one command there."""
    code = node_shell.shell(config, distro, node, cmd)
    if code:
        raise Exit(code=code)


@task(name="clean", help={"all": "Every st2pkg run on this Docker engine, plus st2pkg images "
                                 "and caches.",
                          "config": "Config file (default: st2pkg.yml, or $ST2PKG_CONFIG)."})
@_exits
def clean_(c: Context, all: bool = False, config: str | None = None) -> None:
    """Remove this checkout's runs: containers, networks, volumes, keys (--all: everything)."""
    app.clean(config, all)


@task(help={"distro": "Distro(s), comma-separated, or 'all' (default from config).",
            "package": "Package recipe(s) under packaging/, comma-separated (ST2_PACKAGES).",
            "jobs": "Distros built at once (default: one per CPU core).",
            "output": "Output directory (default: build).",
            "force": "Rebuild even when every input is unchanged.",
            "rpm_check": "--no-rpm-check skips running rpm specs through rpmbuild on "
                         "Debian build nodes (default: option rpm_check, on).",
            "config": "Config file (default: st2pkg.yml, or $ST2PKG_CONFIG)."})
@_exits
def build(c: Context, distro: str | None = None, package: str | None = None,
          jobs: int | None = None, output: str | None = None, force: bool = False,
          rpm_check: bool = True, config: str | None = None) -> None:
    """Build .deb/.rpm packages for each distro in its build node over SSH, in parallel.

    Reuses cached artifacts when every input is unchanged. Writes build/<distro>/ with the
    packages, SHA256SUMS, manifest.json and logs/."""
    app.build(config, distro, package, jobs, output, force, None if rpm_check else False)


@task
@_exits
def docs(c: Context) -> None:
    """Regenerate README.md's option table from the option declarations (at a checkout's top)."""
    app.write_docs(Path.cwd() / "README.md")


@task(help={"upgrade": "Resolve to the newest versions pyproject.toml allows (default: keep "
                       "the lock's versions where they still fit)."})
@_exits
def lock(c: Context, upgrade: bool = False) -> None:
    """Regenerate requirements.lock (exact versions with sha256 hashes) from pyproject.toml.

    Resolves the dependencies and the dev extra in a fresh virtualenv with pip; run at a
    checkout's top, on the kind of machine the lock is for (Linux, the Python of .venv)."""
    lockfile.write(Path.cwd(), upgrade)


KEEP_HELP = {"keep": "Keep the test nodes running after a green run too.",
             "rm": "Remove the test nodes even when verification fails."}


@task(name="test", help={
            "distro": "Distro(s), comma-separated, or 'all' (default from config).",
            "package": "Only these recipes' packages (default: all in the manifest).",
            **KEEP_HELP, "config": "Config file (default: st2pkg.yml, or $ST2PKG_CONFIG)."})
@_exits
def verify(c: Context, distro: str | None = None, package: str | None = None,
           keep: bool = False, rm: bool = False, config: str | None = None) -> None:
    """Verify already built packages (build/<distro>/) on each distro's test node.

    Installs them beside RabbitMQ, PostgreSQL, Redis (MongoDB when available), configures
    and starts them, then runs the testinfra suite. JUnit XML in build/<distro>/reports/.
    Nodes of a failed verification are kept for `st2pkg shell` (--rm removes them)."""
    app.test(config, distro, package, keep, rm)


@task(help={"distro": "Distro(s), comma-separated, or 'all' (default from config).",
            "package": "Package recipe(s) under packaging/, comma-separated (ST2_PACKAGES).",
            "jobs": "Distros worked on at once (default: one per CPU core).",
            "output": "Output directory (default: build).",
            "force": "Rebuild even when every input is unchanged.",
            "rpm_check": "--no-rpm-check skips running rpm specs through rpmbuild on "
                         "Debian build nodes (default: option rpm_check, on).",
            **KEEP_HELP, "config": "Config file (default: st2pkg.yml, or $ST2PKG_CONFIG)."})
@_exits
def pipeline(c: Context, distro: str | None = None, package: str | None = None,
             jobs: int | None = None, output: str | None = None, force: bool = False,
             rpm_check: bool = True, keep: bool = False, rm: bool = False,
             config: str | None = None) -> None:
    """Build, then verify, each distro's packages: the whole job in one command.

    Distros run in parallel and a failing one never stops the others. The summary is
    printed and written to build/summary.json."""
    app.pipeline(config, distro, package, jobs, output, force, None if rpm_check else False,
                 keep, rm)


@task(help={"distro": "The distro whose built st2 package to install.",
            "config": "Config file (default: st2pkg.yml, or $ST2PKG_CONFIG)."})
@_exits
def st2image(c: Context, distro: str, config: str | None = None) -> None:
    """Make st2pkg/st2:<version>-<distro> from the st2 package built for the distro.

    Also tags it st2pkg/st2:<distro>, which examples/packs.yml uses as its base.
    A base for pack images: source -> package -> st2 image -> pack images."""
    app.st2image(config, distro)


INDEX_HELP = "A pack index URL or file; repeat for several (first wins). Default: config."


@task(help={"query": "Text to look for in name, then keywords, then other fields.",
            "index": INDEX_HELP, "config": "Config file (default: st2pkg.yml)."},
      iterable=["index"])
@_exits
def search(c: Context, query: str, index: list[str] | None = None,
           config: str | None = None) -> None:
    """Search the pack indexes (case-insensitive, st2's matching order) and print a table."""
    packs_app.search(config, query, index or [])


@task(help={"name": "The pack's ref or name.", "index": INDEX_HELP,
            "config": "Config file (default: st2pkg.yml)."}, iterable=["index"])
@_exits
def show(c: Context, name: str, index: list[str] | None = None,
         config: str | None = None) -> None:
    """Show one pack of the indexes: every field, URLs redacted."""
    packs_app.show(config, name, index or [])


@task(name="build", help={
    "spec": "Pack image spec YAML (base: {image, tags}, pack_image: {image, version, packs}).",
    "index": INDEX_HELP, "skip_dependencies": "Install only the packs the spec names.",
    "config": "Config file (default: st2pkg.yml)."}, iterable=["index"])
@_exits
def packs_build(c: Context, spec: str, index: list[str] | None = None,
                skip_dependencies: bool = False, config: str | None = None) -> None:
    """Build st2 pack images from a spec: one <image>:<version>-<tag> per base tag.

    Each holds only /opt/stackstorm/packs, /opt/stackstorm/virtualenvs, sh and cp."""
    packs_app.build(config, spec, index or [], skip_dependencies)


packs = Collection("packs", search, show, packs_build)
ns = Collection(distros, config, docs, lock, up, shell, clean_, build, verify, pipeline, st2image,
                packs)


class St2pkgProgram(Program):
    """invoke's Program, with argument errors (unknown task or flag, missing value) reported
    in st2pkg's shape: one `error:` line and the usage exit code."""

    def parse_core(self, argv: list[str] | None) -> None:
        with _usage():
            super().parse_core(argv)

    def parse_tasks(self) -> None:
        with _usage():
            super().parse_tasks()

    def parse_cleanup(self) -> None:
        with _usage():
            super().parse_cleanup()


@contextlib.contextmanager
def _usage() -> Iterator[None]:
    try:
        yield
    except ParseError as err:
        raise Exit(_bounded(f"error: {_said(str(err))} (see `st2pkg --help` or "
                            "`st2pkg --help <task>`)"), code=USAGE) from err


def _said(message: str) -> str:
    """invoke's parse message, with its flag objects written as the flags a user types."""
    return _FLAG_VALUE.sub(lambda m: f"--{m[1].replace('_', '-')} needs a value", message)


# invoke says: Flag <Argument: jobs (j)> needed value and was not given one!
_FLAG_VALUE = re.compile(r"Flag <Argument: (\w+)[^>]*> needed value and was not given one!")


program = St2pkgProgram(namespace=ns, name="st2pkg", binary="st2pkg", version=__version__)


def main() -> None:
    """The `st2pkg` console command."""
    program.run()
