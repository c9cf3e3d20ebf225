"""What an installed st2pkg package must look like, read from its recipe under packaging/
(the same data files the build lays the package out from), plus the few facts of the design
brief that no data file holds (accounts, files the maintainer scripts make, ports)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from st2pkg import recipes

UNIT_DIR = "/usr/lib/systemd/system"
# The HTTP services' launcher: st2-serve SECTION DEFAULT_HOST:PORT APP ... (see services).
SERVE = "st2-serve"
WORKERS_PROGRAM = "st2-workers"


@dataclass(frozen=True)
class Bind:
    """Where an st2-serve unit listens: st2.conf's [section] host and port, else the default."""

    section: str
    host: str
    port: int


@dataclass(frozen=True)
class Unit:
    """A systemd unit of packaging/<package>/services, with the User= of its template.
    ``program`` is what its ExecStart runs (st2-workers for a pool of ``workers`` workers,
    each the unit ``name@N`` running ``worker_program`` as ``worker_user``)."""

    package: str
    name: str
    program: str
    user: str
    group: str
    bind: Bind | None = None
    workers: int = 0
    worker_program: str = ""
    worker_user: str = ""

    @property
    def path(self) -> str:
        return f"{UNIT_DIR}/{self.name}.service"

    @property
    def template_path(self) -> str:
        return f"{UNIT_DIR}/{self.name}@.service"

    @property
    def ports(self) -> tuple[int, ...]:
        return (self.bind.port,) if self.bind else ()

    @property
    def service(self) -> str:
        """The service name of its /etc/st2 logging files: st2api -> api."""
        return self.name.removeprefix("st2")


@dataclass(frozen=True)
class SourceFile:
    """A row of packaging/<package>/source-files: what the source tree gives, where it goes,
    and the group that may change it (None: root alone)."""

    package: str
    source: str
    path: str
    group: str | None


@dataclass(frozen=True)
class OwnedDir:
    """A row of packaging/<package>/dirs."""

    package: str
    path: str
    mode: int
    owner: str
    group: str
    purge: str


@dataclass(frozen=True)
class RuntimeDir:
    """A 'd' line of packaging/<package>/tmpfiles."""

    package: str
    path: str
    mode: int
    owner: str
    group: str


@dataclass(frozen=True)
class FileFact:
    """A file the package or its maintainer scripts put in place. ``mode``/``owner``/
    ``group`` None: not fixed (the verify stage may rewrite it); ``readable_by`` must read it;
    ``shipped`` False: made by the maintainer scripts, so no package owns it."""

    package: str
    path: str
    mode: int | None = None
    owner: str | None = None
    group: str | None = None
    readable_by: str | None = None
    text: str | None = None
    shipped: bool = True


@dataclass(frozen=True)
class Accounts:
    """Users and groups a package creates."""

    system_users: tuple[str, ...]
    homes: dict[str, str]
    groups: dict[str, tuple[str, ...]]


@dataclass(frozen=True)
class Package:
    """Every fact the suite checks about one installed package."""

    name: str
    venv: str
    links: tuple[str, ...]
    units: tuple[Unit, ...]
    dirs: tuple[OwnedDir, ...]
    runtime_dirs: tuple[RuntimeDir, ...]
    files: tuple[FileFact, ...]
    accounts: Accounts | None
    writable: tuple[tuple[str, str], ...]
    ports: tuple[int, ...]
    source_files: tuple[SourceFile, ...] = ()

    @property
    def installed_paths(self) -> tuple[str, ...]:
        """Paths the package itself ships (so purging it must remove them)."""
        templates = (u.template_path for u in self.units if u.workers)
        return (self.venv, *(f"/usr/bin/{link}" for link in self.links),
                *(u.path for u in self.units), *templates,
                *(f.path for f in self.files if f.shipped), *(s.path for s in self.source_files))

    @property
    def removable_paths(self) -> tuple[str, ...]:
        """Everything purging the package must remove: what it ships, what its maintainer
        scripts made, its runtime and its own directories."""
        made = (f.path for f in self.files if not f.shipped)
        return tuple(dict.fromkeys((*self.installed_paths, *made,
                                    *(d.path for d in self.runtime_dirs),
                                    *(d.path for d in self.dirs))))


# Facts of the design brief that live in no data file of the recipe.
_ACCOUNTS = {
    "st2": Accounts(system_users=("st2",), homes={"stanley": "/home/stanley"},
                    groups={"st2packs": ("st2",)}),
}
_MAINTAINER_FILES = {
    "st2": (FileFact("st2", "/etc/st2/htpasswd", 0o600, "st2", "st2", shipped=False),),
}
_WRITABLE = {
    "st2": (("st2", "/var/log/st2"), ("st2", "/opt/stackstorm/packs"),
            ("st2", "/opt/stackstorm/virtualenvs")),
}
_PORTS = {"st2": (9100, 9101, 9102)}
# The programs of /usr/bin that print their usage for --help but exit non-zero, and that code:
# st2ctl's own way, and st2's getopts scripts, which know no --help and print their usage
# for any unknown option.
HELP_EXIT = {"st2ctl": 1, "st2-run-pack-tests": 2, "st2-self-check": 2}
# /etc/st2/st2.conf comes from the st2 source (package.env conf_from_source).
_CONF_FILES = {"st2": (FileFact("st2", "/etc/st2/st2.conf", owner="root", readable_by="st2"),)}


def _template_value(path: Path, key: str) -> str:
    match = re.search(rf"^{key}=(\S+)\s*$", path.read_text(encoding="utf-8"), re.M)
    if not match:
        raise ValueError(f"{path}: no {key}= line")
    return match.group(1)


def _bind(command: list[str]) -> Bind | None:
    if command[0] != SERVE:
        return None
    host, _, port = command[2].rpartition(":")
    return Bind(command[1], host, int(port))


def _unit(recipe: recipes.Recipe, row: list[str], workers: dict[str, int]) -> Unit:
    data = recipe.root / recipe.name
    name, command = row[0], row[1:]
    if name not in workers:
        template = data / "service.in"
        return Unit(recipe.name, name, command[0], _template_value(template, "User"),
                    _template_value(template, "Group"), _bind(command))
    pool, worker = data / "workers.service.in", data / "worker@.service.in"
    return Unit(recipe.name, name, WORKERS_PROGRAM, _template_value(pool, "User"),
                _template_value(pool, "Group"), None, workers[name], command[0],
                _template_value(worker, "User"))


def load(name: str, root: Path) -> Package:
    """The facts of recipe ``name`` under the recipes directory ``root`` (ConfigError from
    st2pkg.recipes when there is none)."""
    recipe = recipes.load(name, root)
    data = root / name
    workers = {row[0]: int(row[1]) for row in recipe.rows("workers")}
    units = tuple(_unit(recipe, row, workers) for row in recipe.rows("services"))
    files = [*_CONF_FILES.get(name, ()), *_MAINTAINER_FILES.get(name, ())]
    for source, dest in (("logrotate", f"/etc/logrotate.d/{name}"),
                         ("tmpfiles", f"/usr/lib/tmpfiles.d/{name}.conf")):
        if (data / source).is_file():
            files.append(FileFact(name, dest, 0o644, "root", "root",
                                  text=(data / source).read_text(encoding="utf-8")))
    return Package(
        name=name,
        venv=recipe.venv,
        links=tuple(row[0] for row in recipe.rows("links")),
        units=units,
        dirs=tuple(OwnedDir(name, r[0], int(r[1], 8), r[2], r[3], r[4])
                   for r in recipe.rows("dirs")),
        runtime_dirs=tuple(RuntimeDir(name, r[1], int(r[2], 8), r[3], r[4])
                           for r in recipe.rows("tmpfiles") if r[0] == "d"),
        files=tuple(files),
        accounts=_ACCOUNTS.get(name),
        writable=_WRITABLE.get(name, ()),
        ports=_PORTS.get(name, ()),
        source_files=tuple(SourceFile(name, r[0], r[1], None if r[2] == "-" else r[2])
                           for r in recipe.rows("source-files")),
    )

