"""One options resolver: defaults < config file < environment < command line.

Every option is declared once in ``OPTIONS``; the README's option table, ``invoke config`` and
validation all read that declaration. Resolved options are a frozen ``Options``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from . import git
from .distros import Catalog
from .errors import ConfigError, suggest
from .paths import ROOT
from .redact import redact_url
from .yamlfile import read_yaml

DEFAULT_CONFIG = ROOT / "st2pkg.yml"

Kind = Literal["str", "int", "bool", "list", "rules", "choice", "path", "optstr", "optpath"]
Source = Literal["default", "config", "env", "cli"]


@dataclass(frozen=True)
class OptionSpec:
    """How one option is named, typed, defaulted and documented."""

    name: str
    env: str
    kind: Kind
    default: Any
    help: str
    choices: tuple[str, ...] = ()
    secret_url: bool = False
    # int options: the largest value allowed; str options: what a value must match, and how
    # to say it.
    maximum: int | None = None
    pattern: str | None = None
    pattern_help: str = ""
    # list options of names: spaces separate items too (the historical ST2_PACKAGES form)
    words: bool = False


# What dpkg and rpm both accept in a version or release (and what no shell reads twice).
_PACKAGE_VERSION = r"[0-9][A-Za-z0-9.+~]*"
# Lists are comma-separated; lists of names may be space-separated too.
_WORD_SEPARATORS = re.compile(r"[,\s]+")
# Longest piece of a bad value an error message quotes.
_SHOWN = 60

OPTIONS: tuple[OptionSpec, ...] = (
    OptionSpec("distros", "ST2PKG_DISTROS", "list", ("bookworm",),
               "Distros to work on: names from distros/, comma-separated, or 'all'.",
               words=True),
    OptionSpec("packages", "ST2_PACKAGES", "list", ("st2",),
               "Packages to build: recipes under packaging/, comma- or space-separated.",
               words=True),
    OptionSpec("st2_giturl", "ST2_GITURL", "str", "https://github.com/StackStorm/st2",
               "st2 source: https/ssh git URL, file:// URL or local path.", secret_url=True),
    OptionSpec("st2_gitrev", "ST2_GITREV", "str", "master",
               "st2 revision: branch, tag or commit sha."),
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
               "Package recipes directory; default: this repository's packaging/."),
    OptionSpec("base_source", "ST2PKG_BASE_SOURCE", "choice", "auto",
               "Where base images come from: auto (registry, else bootstrap), "
               "registry, bootstrap.", choices=("auto", "registry", "bootstrap")),
    OptionSpec("debian_mirror", "ST2PKG_DEBIAN_MIRROR", "optstr", None,
               "Debian archive URL for bootstrapping; default: debootstrap's own.",
               secret_url=True),
    OptionSpec("compose", "ST2PKG_COMPOSE", "choice", "auto",
               "Compose implementation: auto, v2 ('docker compose') or v1 ('docker-compose').",
               choices=("auto", "v2", "v1")),
    OptionSpec("test_init", "ST2PKG_TEST_INIT", "choice", "auto",
               "Test node init: auto (systemd, else plain), systemd, or plain (start-units).",
               choices=("auto", "systemd", "plain")),
    OptionSpec("cgroup_mount", "ST2PKG_CGROUP_MOUNT", "str", "/sys/fs/cgroup:/sys/fs/cgroup:ro",
               "The test node's cgroup volume under systemd, in compose volume syntax."),
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
               "MongoDB image; used when present locally or pullable, else Mongo is skipped."),
)
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}
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
            if spec.secret_url and value is not None:
                text = redact_url(text)
            rows.append((spec.name, text, self.sources.get(spec.name, "default")))
        return rows


def _parse(spec: OptionSpec, raw: Any, where: str) -> Any:
    """Turn a raw value (YAML or string) into the option's type, or raise ConfigError."""
    def bad(what: str) -> ConfigError:
        return ConfigError(f"{where}: option '{spec.name}' {what}")

    def shown(value: Any) -> str:
        text = redact_url(repr(value))
        return text if len(text) <= _SHOWN else text[:_SHOWN] + "...(cut)"

    if raw is None:
        if spec.kind in ("optstr", "optpath"):
            return None
        raise bad("must not be empty")
    if spec.kind in ("list", "rules"):
        items = raw
        if isinstance(raw, str):
            items = _WORD_SEPARATORS.split(raw) if spec.words else raw.split(",")
        if not isinstance(items, list | tuple) or not all(isinstance(i, str) for i in items):
            raise bad(f"must be a list of names or a comma-separated string, got {shown(raw)}")
        cleaned = tuple(i.strip() for i in items if i.strip())
        if spec.kind == "rules":
            return _rules(cleaned, bad)
        if not cleaned:
            raise bad("must name at least one item")
        return cleaned
    if spec.kind == "bool":
        if isinstance(raw, bool):
            return raw
        text = str(raw).strip().lower()
        if text in _TRUE | _FALSE:
            return text in _TRUE
        raise bad(f"must be true or false (1/0, yes/no, on/off), got {shown(raw)}")
    if spec.kind == "int":
        if isinstance(raw, bool):
            raise bad(f"must be a whole number, got {shown(raw)}")
        try:
            value = int(raw)
        except (TypeError, ValueError) as err:
            raise bad(f"must be a whole number, got {shown(raw)}") from err
        if value < 0 or (spec.maximum is not None and value > spec.maximum):
            top = f" and at most {spec.maximum}" if spec.maximum is not None else ""
            raise bad(f"must be 0 or more{top}, got {value}")
        return value
    if not isinstance(raw, str | int | float) or isinstance(raw, bool):
        raise bad(f"must be a string, got {shown(raw)}")
    text = str(raw).strip()
    if spec.pattern and text and not re.fullmatch(spec.pattern, text):
        raise bad(f"must be {spec.pattern_help}, got {shown(text)}")
    if spec.kind == "choice" and text not in spec.choices:
        allowed = ", ".join(spec.choices)
        raise bad(f"is {shown(text)}; allowed: {allowed}{suggest(text, spec.choices)}")
    if spec.kind in ("optstr", "optpath"):
        return text or None
    if spec.kind == "path":
        return text
    if not text:
        raise bad("must not be empty")
    return text


def _rules(items: tuple[str, ...], bad: Callable[[str], ConfigError]) -> tuple[str, ...]:
    """``PREFIX=MIRROR`` items: both sides given."""
    for item in items:
        prefix, eq, target = item.partition("=")
        if not (eq and prefix.strip() and target.strip()):
            raise bad(f"item {redact_url(item)[:_SHOWN]!r} is not PREFIX=MIRROR (e.g. "
                      "https://github.com/StackStorm/=file:///srv/git/)")
    return tuple("=".join(p.strip() for p in i.partition("=")[::2]) for i in items)


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
    ``config_file`` None means the repo's st2pkg.yml, or $ST2PKG_CONFIG when set.
    """
    environ = os.environ if environ is None else environ
    cwd = Path.cwd() if cwd is None else cwd
    cli = {k: v for k, v in (cli or {}).items() if v is not None}
    for key in cli:
        if key not in SPECS:
            raise ConfigError(f"command line: unknown option {key!r}{suggest(key, SPECS)}")

    path: Path | None
    if config_file is not None:
        path = Path(config_file)
    elif environ.get("ST2PKG_CONFIG"):
        path = Path(environ["ST2PKG_CONFIG"])
    else:
        path = DEFAULT_CONFIG if DEFAULT_CONFIG.exists() else None
    from_file = _read_config_file(path) if path else {}

    values: dict[str, Any] = {}
    sources: dict[str, Source] = {}
    layers: list[tuple[Source, Callable[[OptionSpec], tuple[bool, Any, str]]]] = [
        ("config", lambda s: (s.name in from_file, from_file.get(s.name), f"{path}")),
        ("env", lambda s: (s.env in environ, environ.get(s.env), f"environment {s.env}")),
        ("cli", lambda s: (s.name in cli, cli.get(s.name), "command line")),
    ]
    for spec in OPTIONS:
        values[spec.name] = _parse(spec, spec.default, "built-in default")
        sources[spec.name] = "default"
        for source, lookup in layers:
            present, raw, where = lookup(spec)
            if present:
                values[spec.name] = _parse(spec, raw, where)
                sources[spec.name] = source

    values["distros"] = catalog.select(values["distros"], where=_where(sources["distros"]))
    if values["jobs"] == 0:
        values["jobs"] = os.cpu_count() or 1
    values["recipes_dir"] = values["recipes_dir"] or str(ROOT / "packaging")
    # Paths are taken from the working directory, as a shell would.
    for spec in OPTIONS:
        if spec.kind in ("path", "optpath") and values[spec.name] is not None:
            values[spec.name] = (cwd / Path(values[spec.name]).expanduser()).resolve()
        where = _place(spec, sources[spec.name], path)
        if spec.kind == "path" and values[spec.name].exists() and \
                not values[spec.name].is_dir():
            raise ConfigError(f"{where}: option '{spec.name}' names {values[spec.name]}, which "
                              "is not a directory; give a directory (made if missing)")
    _check_giturl(values["st2_giturl"], _place(SPECS["st2_giturl"], sources["st2_giturl"],
                                               path), cwd)
    return Options(**values, config_file=path, sources=sources,
                   config_keys=tuple(str(k) for k in from_file))


def _place(spec: OptionSpec, source: Source, path: Path | None) -> str:
    """Where an option's value came from, as an error message names it."""
    return {"default": "built-in default", "config": f"{path}",
            "env": f"environment {spec.env}", "cli": "command line"}[source]


def _check_giturl(url: str, where: str, cwd: Path) -> None:
    """A git URL of a scheme git fetches from, or a local directory."""
    if git.is_url(url) or (cwd / Path(url).expanduser()).is_dir():
        return
    shown = redact_url(url)[:_SHOWN]
    raise ConfigError(f"{where}: option 'st2_giturl' is {shown!r}, neither a git URL (https://, "
                      "ssh://, git://, file://, user@host:path) nor an existing directory; "
                      "give the st2 repository's URL or path")


def _where(source: Source) -> str:
    return {"default": "built-in default", "config": "config file",
            "env": "environment ST2PKG_DISTROS", "cli": "--distro"}[source]



TABLE_BEGIN = "<!-- options:begin (generated by `invoke docs`; do not edit) -->"
TABLE_END = "<!-- options:end -->"


def options_table() -> str:
    """The README's option table, made from ``OPTIONS``."""
    lines = [TABLE_BEGIN, "", "| option (config key) | environment | default | meaning |",
             "|---|---|---|---|"]
    for spec in OPTIONS:
        if isinstance(spec.default, tuple):
            default = ",".join(spec.default) or "(none)"
        elif spec.default is None:
            default = "(none)"
        else:
            default = str(spec.default).lower() if isinstance(spec.default, bool) \
                else str(spec.default)
        lines.append(f"| `{spec.name}` | `{spec.env}` | `{default}` | {spec.help} |")
    return "\n".join([*lines, "", TABLE_END])


def render_readme(text: str) -> str:
    """``text`` with its generated option table replaced by the current one."""
    head, _, rest = text.partition(TABLE_BEGIN)
    _, _, tail = rest.partition(TABLE_END)
    if not rest:
        raise ValueError("README has no generated option table markers")
    return head + options_table() + tail
