"""One options resolver: defaults < config file < environment < command line.

Every option is declared once in ``OPTIONS``; the README's option table, ``st2pkg config`` and
validation all read that declaration. Resolved options are a frozen ``Options``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from . import git
from .distros import Catalog
from .errors import ConfigError, suggest
from .optionspec import SHOWN, OptionSpec, parse
from .paths import RECIPES_DIR
from .redact import redact_url
from .yamlfile import read_yaml

# Looked for in the working directory, like a Makefile or noxfile.py.
DEFAULT_CONFIG = "st2pkg.yml"

Source = Literal["default", "config", "env", "cli"]


# What dpkg and rpm both accept in a version or release (and what no shell reads twice).
_PACKAGE_VERSION = r"[0-9][A-Za-z0-9.+~]*"
# What git takes as a ref name or sha, and no shell or git option reads as more.
_GIT_REF = r"[A-Za-z0-9_][A-Za-z0-9._/+-]*"
_ARCHIVE_URL = r"(?i)(https?|ftp|file)://\S+"
_VOLUME = r"/[^:\s]*:/[^:\s]*(:(ro|rw))?"
_IMAGE_REF = (r"[a-z0-9][a-z0-9._-]*(:[0-9]+)?(/[a-z0-9._-]+)*(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?"
              r"(@sha256:[0-9a-f]{64})?")

OPTIONS: tuple[OptionSpec, ...] = (
    OptionSpec("distros", "ST2PKG_DISTROS", "list", ("bookworm",),
               "Distros to work on: names from distros/, comma-separated, or 'all'.",
               words=True, flag="--distro"),
    OptionSpec("packages", "ST2_PACKAGES", "list", ("st2",),
               "Packages to build: recipes under packaging/, comma- or space-separated.",
               words=True),
    OptionSpec("st2_giturl", "ST2_GITURL", "str", "https://github.com/StackStorm/st2",
               "st2 source: https/ssh git URL, file:// URL or local path.", secret_url=True),
    OptionSpec("st2_gitrev", "ST2_GITREV", "str", "master",
               "st2 revision: branch, tag or commit sha.", pattern=_GIT_REF,
               pattern_help="a branch, tag or commit sha (letters, digits, . _ / + -, not "
               "starting with - or .)"),
    OptionSpec("git_mirrors", "ST2PKG_GIT_MIRRORS", "rules", (),
               "Git URL rewrites PREFIX=MIRROR, comma-separated, for the st2 source and its "
               "VCS requirements (as git's url.<MIRROR>.insteadOf=PREFIX).", secret_url=True),
    OptionSpec("version", "ST2PKG_VERSION", "optstr", None,
               "Package version, used as given; default: the source's __version__ (PEP 440) "
               "mapped to deb/rpm order, e.g. 3.9.0rc1 -> 3.9.0~rc1.", pattern=_PACKAGE_VERSION,
               pattern_help="a package version: a digit first, then letters, digits, . + ~"),
    OptionSpec("release", "ST2PKG_RELEASE", "str", "1", "Package release number.",
               pattern=_PACKAGE_VERSION,
               pattern_help="a release: a digit first, then letters, digits, . + ~ (e.g. 2)"),
    OptionSpec("debug_level", "DEBUG_LEVEL", "int", 0,
               "0 quiet, 1 show remote commands, 2 also stream their output.", maximum=2),
    OptionSpec("jobs", "ST2PKG_JOBS", "int", 0,
               "Distros worked on at once; 0 means one per CPU core."),
    OptionSpec("output", "ST2PKG_OUTPUT", "path", "build",
               "Where artifacts, logs and reports go (build/<distro>/...)."),
    OptionSpec("cache_dir", "ST2PKG_CACHE_DIR", "path", "~/.cache/st2pkg",
               "Wheelhouses, sources and artifact cache, shared across checkouts."),
    OptionSpec("state_dir", "ST2PKG_STATE_DIR", "path", ".st2pkg",
               "Per-run state: SSH keys, pinned host keys, compose files."),
    OptionSpec("recipes_dir", "ST2PKG_RECIPES_DIR", "optpath", None,
               "Package recipes directory; default: the packaging/ recipes st2pkg ships."),
    OptionSpec("base_source", "ST2PKG_BASE_SOURCE", "choice", "auto",
               "Where base images come from: auto (registry, else bootstrap), "
               "registry, bootstrap.", choices=("auto", "registry", "bootstrap")),
    OptionSpec("debian_mirror", "ST2PKG_DEBIAN_MIRROR", "optstr", None,
               "Debian archive URL for bootstrapping; default: debootstrap's own.",
               secret_url=True, pattern=_ARCHIVE_URL,
               pattern_help="an http(s)://, ftp:// or file:// URL of a Debian archive"),
    OptionSpec("compose", "ST2PKG_COMPOSE", "choice", "auto",
               "Compose implementation: auto, v2 ('docker compose') or v1 ('docker-compose').",
               choices=("auto", "v2", "v1")),
    OptionSpec("test_init", "ST2PKG_TEST_INIT", "choice", "auto",
               "Test node init: auto (systemd, else plain), systemd, or plain (start-units).",
               choices=("auto", "systemd", "plain")),
    OptionSpec("cgroup_mount", "ST2PKG_CGROUP_MOUNT", "str", "/sys/fs/cgroup:/sys/fs/cgroup:ro",
               "The test node's cgroup volume under systemd, in compose volume syntax.",
               pattern=_VOLUME, pattern_help="HOST_PATH:CONTAINER_PATH[:ro|rw]"),
    OptionSpec("rpm_check", "ST2PKG_RPM_CHECK", "bool", True,
               "On Debian-family build nodes also run each rpm spec through rpmbuild."),
    OptionSpec("pack_indexes", "ST2PKG_PACK_INDEXES", "list",
               ("https://index.stackstorm.org/v1/index.json",),
               "Pack indexes (URLs or files), comma-separated; the first listed wins.",
               secret_url=True),
    OptionSpec("busybox", "ST2PKG_BUSYBOX", "optpath", None,
               "Static busybox binary for pack images (their sh and cp); default: Debian's "
               "busybox-static, fetched with the host's apt."),
    OptionSpec("mongodb_image", "ST2PKG_MONGODB_IMAGE", "str", "mongo:7.0",
               "MongoDB image; used when present locally or pullable, else Mongo is skipped.",
               pattern=_IMAGE_REF, pattern_help="an image reference such as mongo:7.0 or "
               "registry.example:5000/mongo:7.0"),
)
SPECS: dict[str, OptionSpec] = {spec.name: spec for spec in OPTIONS}


@dataclass(frozen=True)
class Options:
    """Resolved options. ``sources`` says where each value came from."""

    distros: tuple[str, ...]
    packages: tuple[str, ...]
    st2_giturl: str
    st2_gitrev: str
    git_mirrors: tuple[str, ...]
    version: str | None
    release: str
    debug_level: int
    jobs: int
    output: Path
    cache_dir: Path
    state_dir: Path
    recipes_dir: Path
    base_source: str
    debian_mirror: str | None
    compose: str
    test_init: str
    cgroup_mount: str
    rpm_check: bool
    pack_indexes: tuple[str, ...]
    busybox: Path | None
    mongodb_image: str
    config_file: Path | None = None
    sources: Mapping[str, Source] = field(default_factory=dict, compare=False)
    # The options the config file sets (whether or not something overrides them).
    config_keys: tuple[str, ...] = ()

    def place(self, name: str) -> str:
        """Where option ``name``'s value came from, as an error message names it."""
        return _place(SPECS[name], self.sources.get(name, "default"), self.config_file)

    def describe(self) -> list[tuple[str, str, str]]:
        """(name, printable value, source) rows, credentials redacted."""
        rows: list[tuple[str, str, str]] = []
        for spec in OPTIONS:
            value = getattr(self, spec.name)
            if isinstance(value, tuple):
                text = ",".join(value)
            elif isinstance(value, bool):
                text = str(value).lower()
            else:
                text = str(value)
            # Any value may hold a URL with credentials (a path made from one, say).
            rows.append((spec.name, redact_url(text), self.sources.get(spec.name, "default")))
        return rows


def _read_config_file(path: Path) -> dict[str, Any]:
    data = read_yaml(path, "config file", "pass an existing --config")
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: must be a mapping of option names to values")
    for key in data:
        if key not in SPECS:
            raise ConfigError(
                f"{path}: unknown option {key!r}{suggest(str(key), SPECS)}; "
                f"known options: {', '.join(SPECS)}"
            )
    return data


def resolve(
    catalog: Catalog,
    cli: Mapping[str, Any] | None = None,
    config_file: Path | str | None = None,
    environ: Mapping[str, str] | None = None,
    cwd: Path | None = None,
) -> Options:
    """Resolve options: defaults < config file < environment < command line.

    ``cli`` maps option names to values; ``None`` values mean "not given".
    ``config_file`` None means $ST2PKG_CONFIG when set, else st2pkg.yml in ``cwd`` if any.
    """
    environ = os.environ if environ is None else environ
    cwd = Path.cwd() if cwd is None else cwd
    cli = {k: v for k, v in (cli or {}).items() if v is not None}
    for key in cli:
        if key not in SPECS:
            raise ConfigError(f"command line: unknown option {key!r}{suggest(key, SPECS)}")
    path = _config_path(config_file, environ, cwd)
    from_file = _read_config_file(path) if path else {}
    layers: dict[Source, Mapping[str, Any]] = {
        "config": from_file, "env": {s.name: environ[s.env] for s in OPTIONS if s.env in environ},
        "cli": cli}
    values, sources = _layered(layers, path)
    values["distros"] = catalog.select(
        values["distros"], where=_place(SPECS["distros"], sources["distros"], path))
    if values["jobs"] == 0:
        values["jobs"] = os.cpu_count() or 1
    values["recipes_dir"] = values["recipes_dir"] or str(RECIPES_DIR)
    _paths(values, sources, path, cwd)
    _check_urls(values, sources, path, cwd)
    return Options(**values, config_file=path, sources=sources,
                   config_keys=tuple(str(k) for k in from_file))


def _config_path(given: Path | str | None, environ: Mapping[str, str], cwd: Path) -> Path | None:
    if given is not None:
        if not str(given).strip():
            raise ConfigError("--config: empty; name a config file (or leave --config out)")
        return Path(given)
    if environ.get("ST2PKG_CONFIG"):
        return Path(environ["ST2PKG_CONFIG"])
    return cwd / DEFAULT_CONFIG if (cwd / DEFAULT_CONFIG).is_file() else None


def _layered(layers: Mapping[Source, Mapping[str, Any]],
             path: Path | None) -> tuple[dict[str, Any], dict[str, Source]]:
    """Every option's value from the highest layer that sets it (``layers`` lowest first)."""
    values: dict[str, Any] = {}
    sources: dict[str, Source] = {}
    for spec in OPTIONS:
        values[spec.name] = parse(spec, spec.default, "built-in default")
        sources[spec.name] = "default"
        for source, given in layers.items():
            if spec.name in given:
                values[spec.name] = parse(spec, given[spec.name], _place(spec, source, path))
                sources[spec.name] = source
    return values, sources


def _paths(values: dict[str, Any], sources: Mapping[str, Source], path: Path | None,
           cwd: Path) -> None:
    """Make path options absolute, from the working directory as a shell would; a path
    option must name a directory (made later if missing), never a file."""
    for spec in OPTIONS:
        if spec.kind not in ("path", "optpath") or values[spec.name] is None:
            continue
        values[spec.name] = (cwd / Path(values[spec.name]).expanduser()).resolve()
        if spec.kind == "path" and values[spec.name].exists() and \
                not values[spec.name].is_dir():
            raise ConfigError(f"{_place(spec, sources[spec.name], path)}: option '{spec.name}' "
                              f"names {values[spec.name]}, which is not a directory; give a "
                              "directory (made if missing)")


def _place(spec: OptionSpec, source: Source, path: Path | None) -> str:
    """Where an option's value came from, as an error message names it."""
    cli = f"command line {spec.flag}" if spec.flag else "command line"
    return {"default": "built-in default", "config": f"{path}",
            "env": f"environment {spec.env}", "cli": cli}[source]


def _check_urls(values: Mapping[str, Any], sources: Mapping[str, Source], path: Path | None,
                cwd: Path) -> None:
    """The URL-valued options hold URLs that can be used (checked here, not mid-run), and
    the busybox option a file."""
    def where(name: str) -> str:
        return _place(SPECS[name], sources[name], path)

    _check_giturl(values["st2_giturl"], where("st2_giturl"), cwd)
    for rule in values["git_mirrors"]:
        mirror = rule.partition("=")[2]
        if not git.is_url(mirror) or _url_problem(mirror):
            raise ConfigError(f"{where('git_mirrors')}: option 'git_mirrors' rule "
                              f"{redact_url(rule)[:SHOWN]!r}: the mirror must be a git URL "
                              "(https://, ssh://, git://, file://, user@host:path)")
    mirror = values["debian_mirror"]
    if mirror is not None and _url_problem(mirror):
        raise ConfigError(f"{where('debian_mirror')}: option 'debian_mirror' is not a usable "
                          f"URL ({_url_problem(mirror)}); give a Debian archive's URL")
    busybox = values["busybox"]
    if busybox is not None and not busybox.is_file():
        raise ConfigError(f"{where('busybox')}: option 'busybox' names {busybox}, which is not "
                          "a file; give the path of a static busybox binary, or unset it to "
                          "fetch Debian's busybox-static")


def _url_problem(url: str) -> str | None:
    """Why ``url`` (scheme://...) cannot be used, or None."""
    if any(c.isspace() for c in url):
        return "it holds a space"
    if "://" not in url:
        return None
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 -- parsing the port checks its range
    except ValueError as err:
        return str(err)
    return None if parts.hostname or parts.scheme == "file" else "it names no host"


def _check_giturl(url: str, where: str, cwd: Path) -> None:
    """A git URL of a scheme git fetches from, or a local directory."""
    problem = _url_problem(url) if git.is_url(url) else None
    if problem:
        raise ConfigError(f"{where}: option 'st2_giturl' is not a usable URL ({problem}); "
                          "give the st2 repository's URL or path")
    if git.is_url(url) or (cwd / Path(url).expanduser()).is_dir():
        return
    shown = redact_url(url)[:SHOWN]
    raise ConfigError(f"{where}: option 'st2_giturl' is {shown!r}, neither a git URL (https://, "
                      "ssh://, git://, file://, user@host:path) nor an existing directory; "
                      "give the st2 repository's URL or path")


