"""An in-memory container engine (st2pkg.engine.Engine) for unit tests: images with labels,
containers with labels and states, a record of what was pulled, built and removed, and
failures set per image reference. Also real options, resolved from a config file written
to the test's directory, and a RunContext over the fake engine. For the stages above
them: a stand-in compose command on PATH and a stand-in for a node's SSH connection."""

from __future__ import annotations

import re
import shlex
import shutil
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from st2pkg import compose
from st2pkg.config import Options, resolve
from st2pkg.containers import FileEntry
from st2pkg.context import RunContext
from st2pkg.distros import Catalog
from st2pkg.engine import Engine
from st2pkg.errors import StageError, UnavailableError

CATALOG = Catalog.load()


@dataclass
class FakeImage:
    id: str
    labels: dict[str, str] = field(default_factory=dict)


@dataclass
class FakeContainer:
    """What ``Engine.containers`` hands back: the fields callers read (name, labels)."""

    name: str
    labels: dict[str, str] = field(default_factory=dict)
    status: str = "running"
    health: str | None = None
    port: int | None = None
    output: str = ""
    files: dict[str, FileEntry] = field(default_factory=dict)


@dataclass
class FakeEngine:
    """Images by reference and containers by name, all in memory.

    ``registry`` holds what a pull can fetch (ref -> labels); a pull of anything else raises
    UnavailableError as an offline machine's engine would. ``build_errors`` maps a tag prefix
    to the reason building it fails."""

    images: dict[str, FakeImage] = field(default_factory=dict)
    registry: dict[str, dict[str, str]] = field(default_factory=dict)
    build_errors: dict[str, str] = field(default_factory=dict)
    running: dict[str, FakeContainer] = field(default_factory=dict)
    pulls: list[str] = field(default_factory=list)
    builds: list[tuple[str, dict[str, str], dict[str, str]]] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    tags: list[tuple[str, str]] = field(default_factory=list)
    commands: list[tuple[str, list[str]]] = field(default_factory=list)
    _ids: int = 0

    def add_image(self, ref: str, **labels: str) -> str:
        """Make ``ref`` present locally (with ``labels``); returns its id."""
        self._ids += 1
        image = FakeImage(f"sha256:{self._ids:064x}", dict(labels))
        self.images[ref] = image
        return image.id

    def add_container(self, name: str, **labels: str) -> FakeContainer:
        container = FakeContainer(name, dict(labels))
        self.running[name] = container
        return container

    # images
    def image_id(self, ref: str) -> str | None:
        image = self.images.get(ref)
        return image.id if image else None

    def image_labels(self, ref: str) -> dict[str, str]:
        image = self.images.get(ref)
        return dict(image.labels) if image else {}

    def pull(self, ref: str) -> str:
        self.pulls.append(ref)
        if ref not in self.registry:
            raise UnavailableError(f"cannot pull {ref}: dial tcp: lookup registry: no such host")
        return self.add_image(ref, **self.registry[ref])

    def can_pull(self, ref: str) -> bool:
        return ref in self.registry

    def tag(self, ref: str, new_ref: str) -> None:
        self.tags.append((ref, new_ref))
        self.images[new_ref] = self.images[ref]

    def import_rootfs(self, tar_path: Path, ref: str, labels: Mapping[str, str]) -> str:
        return self.add_image(ref, **labels)

    def build(self, context: Path, dockerfile: str, tag: str, buildargs: Mapping[str, str],
              labels: Mapping[str, str], log: Callable[[str], None]) -> str:
        self.builds.append((tag, dict(buildargs), dict(labels)))
        for prefix, reason in self.build_errors.items():
            if tag.startswith(prefix):
                log(reason)
                raise StageError(f"building image {tag} failed: {reason}")
        log(f"Successfully built {tag}")
        return self.add_image(tag, **labels)

    def remove_image(self, ref: str) -> None:
        self.removed.append(ref)
        self.images.pop(ref, None)

    def remove_images(self, repository_prefix: str) -> list[str]:
        gone = [ref for ref in self.images if ref.startswith(repository_prefix)]
        for ref in gone:
            self.remove_image(ref)
        return gone

    # containers
    def containers(self, labels: Mapping[str, str] | Iterable[str]) -> list[FakeContainer]:
        wanted = [f"{k}={v}" for k, v in labels.items()] if isinstance(labels, Mapping) \
            else list(labels)

        def carries(container: FakeContainer, item: str) -> bool:
            key, has_value, value = item.partition("=")
            return key in container.labels and (not has_value or container.labels[key] == value)

        return [c for c in self.running.values() if all(carries(c, w) for w in wanted)]

    def _get(self, name: str) -> FakeContainer:
        if name not in self.running:
            raise StageError(f"container {name} does not exist")
        return self.running[name]

    def run_once(self, image: str, argv: list[str], volumes: Mapping[str, Mapping[str, str]],
                 env: Mapping[str, str], user: str,
                 labels: Mapping[str, str]) -> tuple[int, str]:
        self.commands.append((image, list(argv)))
        return 0, ""

    def put_files(self, name: str, root: str, files: Mapping[str, FileEntry]) -> None:
        container = self._get(name)
        container.files.update({f"{root.rstrip('/')}/{path}": e for path, e in files.items()})

    def exec(self, name: str, argv: list[str], user: str = "root") -> tuple[int, str]:
        self._get(name)
        self.commands.append((name, list(argv)))
        return 0, ""

    def published_port(self, name: str, port: int = 22) -> int:
        container = self._get(name)
        if container.port is None:
            raise StageError(f"container {name} publishes no 127.0.0.1 port for {port}/tcp")
        return container.port

    def state(self, name: str) -> tuple[str, str | None]:
        container = self._get(name)
        return container.status, container.health

    def logs(self, name: str, tail: int = 50) -> str:
        return "\n".join(self._get(name).output.splitlines()[-tail:])

    def remove_labelled(self, label: str, patience: float = 60.0) -> dict[str, int]:
        gone = self.containers([label])
        for container in gone:
            del self.running[container.name]
            self.removed.append(container.name)
        return {"containers": len(gone), "networks": 0, "volumes": 0}


def options(tmp_path: Path, config: str = "", cli: Mapping[str, object] | None = None,
            environ: Mapping[str, str] | None = None) -> Options:
    """Options resolved as a run in ``tmp_path`` would resolve them, from ``config`` written
    to its st2pkg.yml; the cache is kept under ``tmp_path`` unless ``config`` names one."""
    if "cache_dir:" not in config:
        config += "\ncache_dir: cache\n"
    path = tmp_path / "st2pkg.yml"
    path.write_text(config, encoding="utf-8")
    return resolve(CATALOG, cli=cli, config_file=path, environ=environ or {}, cwd=tmp_path)


def context(tmp_path: Path, engine: Engine, config: str = "",
            environ: Mapping[str, str] | None = None, **cli: object) -> RunContext:
    """A RunContext over ``engine`` with options from ``config`` (and ``environ``)."""
    return RunContext(CATALOG, options(tmp_path, config, cli, environ),
                      engine=engine)


# Stands in for `docker compose`: answers `version`, appends "<ST2PKG_TEST_INIT>|<args>" to
# CALLS for every other command, and fails the subcommands FAIL names (one per line).
_COMPOSE = """#!/bin/sh
if [ "$1 $2" = "compose version" ]; then echo "Docker Compose version v9.9.9"; exit 0; fi
shift
echo "$ST2PKG_TEST_INIT|$*" >> '{calls}'
if grep -qx -- "$5" '{fail}'; then echo "$5: network st2pkg is in use"; exit 1; fi
"""


@dataclass
class FakeCompose:
    """A ``docker`` on an otherwise empty PATH whose ``compose`` records what it was asked to
    do and fails the subcommands in ``fail`` (``up`` is create, then ``start``, ``down``)."""

    bin_dir: Path

    @property
    def calls(self) -> list[str]:
        """``<ST2PKG_TEST_INIT>|-p NAME -f FILE SUBCOMMAND ...`` per call, in order."""
        path = self.bin_dir / "compose.calls"
        return path.read_text().splitlines() if path.exists() else []

    def subcommands(self) -> list[str]:
        """Each call as ``SUBCOMMAND ARGS`` (project and file left out)."""
        return [call.split("|", 1)[1].split(" ", 4)[4] for call in self.calls]

    def fail(self, *subcommands: str) -> None:
        (self.bin_dir / "compose.fail").write_text("".join(f"{s}\n" for s in subcommands))


def fake_compose(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> FakeCompose:
    """Put a FakeCompose on PATH (sh and grep beside it) and let a failed compose command be
    a StageError, as it is while the engine answers."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("sh", "grep"):
        found = shutil.which(tool)
        assert found is not None
        (bin_dir / tool).symlink_to(found)
    docker = bin_dir / "docker"
    docker.write_text(_COMPOSE.format(calls=bin_dir / "compose.calls",
                                      fail=bin_dir / "compose.fail"))
    docker.chmod(0o755)
    monkeypatch.setenv("PATH", str(bin_dir))
    monkeypatch.setattr(compose, "engine_answers", lambda: True)
    made = FakeCompose(bin_dir)
    made.fail()
    return made


# The ``export NAME=VALUE; `` prefix NodeSession puts before a command run with ``env``.
_EXPORTS = re.compile(r"^(?:export [A-Za-z_][A-Za-z0-9_]*=(?:'[^']*'|[^'; ]*); )*")


@dataclass
class _Done:
    exited: int
    stdout: str


@dataclass
class FakeConnection:
    """A node's fabric Connection (st2pkg.remote.Transport): answers each command by the
    longest key of ``answers`` that its inner command (what NodeSession wrapped in ``bash -c``)
    starts with, exports left out (default: exit 0, no output); records those commands and
    what was uploaded where.
    ``files`` holds what a download of a remote path gets."""

    answers: dict[str, tuple[int, str]] = field(default_factory=dict)
    files: dict[str, bytes] = field(default_factory=dict)
    commands: list[str] = field(default_factory=list)
    uploads: dict[str, bytes] = field(default_factory=dict)
    closed: int = 0

    def run(self, command: str, **kwargs: Any) -> _Done:
        inner = _EXPORTS.sub("", shlex.split(command)[-1])
        self.commands.append(inner)
        keys = sorted((k for k in self.answers if inner.startswith(k)), key=len)
        code, out = self.answers[keys[-1]] if keys else (0, "")
        stream = kwargs.get("out_stream")
        if stream is not None and out:
            stream.write(out)
        return _Done(code, out)

    def put(self, local: str, remote: str) -> None:
        self.uploads[remote] = Path(local).read_bytes()

    def get(self, remote: str, local: str) -> None:
        Path(local).write_bytes(self.files.get(remote, b""))

    def close(self) -> None:
        self.closed += 1

    def __enter__(self) -> FakeConnection:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
