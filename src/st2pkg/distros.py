"""The distro catalog: per-distro facts are data in distros/*.yml, read once here."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, cast, get_args

from .errors import ConfigError, suggest
from .paths import DISTROS_DIR
from .yamlfile import read_yaml

Family = Literal["debian", "ubuntu", "rhel"]
Format = Literal["deb", "rpm"]
Init = Literal["systemd"]

_REQUIRED = ("name", "family", "format", "version", "python", "init", "image")
_OPTIONAL = ("bootstrap", "extra_build_packages", "extra_test_packages")
# Files of distros/ that are shared data, not distros.
_SHARED_FILES = ("formats.yml", "services.yml")


@dataclass(frozen=True)
class FormatData:
    """What every distro of one package format shares (packages of its images)."""

    build_packages: tuple[str, ...]
    test_packages: tuple[str, ...]


@dataclass(frozen=True)
class Distro:
    """One entry of the catalog."""

    name: str
    family: Family
    format: Format
    version: str
    python: str
    init: Init
    image: str
    bootstrap: str | None
    build_packages: tuple[str, ...]
    test_packages: tuple[str, ...]

    @property
    def python_abi(self) -> str:
        """CPython ABI tag, e.g. cp311: wheelhouses are never shared across it."""
        return "cp" + self.python.replace(".", "")


def _check(where: Path, data: Any, key: str, allowed: tuple[str, ...] | None = None) -> str:
    value = data.get(key)
    if not isinstance(value, str | int | float) or isinstance(value, bool) or value == "":
        raise ConfigError(f"{where}: field '{key}' is required and must be a string")
    text = str(value)
    if allowed is not None and text not in allowed:
        raise ConfigError(f"{where}: field '{key}' is {text!r}; allowed: {', '.join(allowed)}"
                          f"{suggest(text, allowed)}")
    return text


def _names(where: Path, data: Any, key: str) -> tuple[str, ...]:
    value = data.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{where}: field '{key}' must be a list of package names")
    return tuple(value)


class Catalog:
    """All distros known to st2pkg, in file-name order."""

    def __init__(self, distros: Iterable[Distro]) -> None:
        self.distros: dict[str, Distro] = {d.name: d for d in distros}

    @classmethod
    def load(cls, directory: Path = DISTROS_DIR) -> Catalog:
        """Read formats.yml and every <name>.yml of ``directory``, validating each field."""
        formats_file = directory / "formats.yml"
        raw_formats = read_yaml(formats_file, "distro catalog file", "restore distros/") or {}
        formats = {
            fmt: FormatData(_names(formats_file, raw_formats.get(fmt, {}), "build_packages"),
                            _names(formats_file, raw_formats.get(fmt, {}), "test_packages"))
            for fmt in get_args(Format)
        }
        return cls([_distro(path, formats) for path in sorted(directory.glob("*.yml"))
                    if path.name not in _SHARED_FILES])

    def get(self, name: str) -> Distro:
        """The distro called ``name``, or a ConfigError listing the known ones."""
        try:
            return self.distros[name]
        except KeyError:
            raise ConfigError(
                f"unknown distro {name!r}{suggest(name, self.distros)}; "
                f"known: {', '.join(self.distros)}, or 'all'"
            ) from None

    def select(self, names: Iterable[str], where: str = "--distro") -> tuple[str, ...]:
        """Validate distro names (``all`` expands to every distro), keeping order, no repeats."""
        chosen: list[str] = []
        for name in names:
            expanded = list(self.distros) if name == "all" else [name]
            for item in expanded:
                if item not in self.distros:
                    raise ConfigError(
                        f"{where}: unknown distro {item!r}{suggest(item, self.distros)}; "
                        f"known: {', '.join(self.distros)}, or 'all'")
                if item not in chosen:
                    chosen.append(item)
        return tuple(chosen)


def _distro(path: Path, formats: Mapping[str, FormatData]) -> Distro:
    """One <name>.yml of the catalog, every field checked."""
    data = read_yaml(path, "distro file", "fix or remove it")
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: must be a mapping of fields")
    for key in data:
        if key not in _REQUIRED + _OPTIONAL:
            raise ConfigError(f"{path}: unknown field {key!r}"
                              f"{suggest(key, _REQUIRED + _OPTIONAL)}")
    fmt = cast(Format, _check(path, data, "format", get_args(Format)))
    if _check(path, data, "name") != path.stem:
        raise ConfigError(f"{path}: field 'name' must equal the file name {path.stem!r}")
    bootstrap = data.get("bootstrap")
    if bootstrap is not None and not isinstance(bootstrap, str):
        raise ConfigError(f"{path}: field 'bootstrap' must be a Debian suite name")
    return Distro(
        name=path.stem,
        family=cast(Family, _check(path, data, "family", get_args(Family))),
        format=fmt,
        version=_check(path, data, "version"),
        python=_check(path, data, "python"),
        init=cast(Init, _check(path, data, "init", get_args(Init))),
        image=_check(path, data, "image"),
        bootstrap=bootstrap,
        build_packages=formats[fmt].build_packages + _names(path, data, "extra_build_packages"),
        test_packages=formats[fmt].test_packages + _names(path, data, "extra_test_packages"),
    )
