"""The pack image spec file: which base image tags, which image name and version, which packs."""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import ConfigError, suggest
from ..yamlfile import read_yaml
from .source import PackRequest, parse_source

# Docker's reference grammar, simplified: optional registry host[:port], lowercase path parts.
_IMAGE = re.compile(
    r"^(?:[a-zA-Z0-9.-]+(?::\d+)?/)?[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
    r"(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$"
)
_TAG = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
# A distro package name (Debian's and EL's rules together); never an option or a shell word.
_PACKAGE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9+._:-]*$")
_FORMATS = ("deb", "rpm")


@dataclass(frozen=True)
class BaseImage:
    """The st2 image the packs are built against, one output image per tag."""

    image: str
    tags: tuple[str, ...]

    def ref(self, tag: str) -> str:
        """The base image reference for one of the tags."""
        return f"{self.image}:{tag}"


@dataclass(frozen=True)
class BuildPackages:
    """Extra distro packages for the wheel builder, by package format (Debian, EL names)."""

    deb: tuple[str, ...] = ()
    rpm: tuple[str, ...] = ()


@dataclass(frozen=True)
class PackEntry:
    """One ``pack_image.packs`` item; ``where`` is its file and index for messages."""

    request: PackRequest
    where: str


@dataclass(frozen=True)
class Spec:
    """A validated spec file."""

    path: Path
    base: BaseImage
    image: str
    version: str
    packs: tuple[PackEntry, ...]
    build_packages: BuildPackages = BuildPackages()

    def image_tag(self, base_tag: str) -> str:
        """The output reference for one base tag: ``<image>:<version>-<tag>``."""
        return f"{self.image}:{self.version}-{base_tag}"


def _mapping(where: str, value: Any, allowed: tuple[str, ...],
             required: tuple[str, ...]) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ConfigError(f"{where}: must be a mapping with keys {', '.join(allowed)}")
    for key in value:
        if key not in allowed:
            raise ConfigError(f"{where}: unknown key {key!r}{suggest(str(key), allowed)}; "
                              f"allowed: {', '.join(allowed)}")
    for key in required:
        if key not in value:
            raise ConfigError(f"{where}: missing required key {key!r}")
    return value


def _string(where: str, value: Any) -> str:
    # An unquoted 3.10 reads as the float 3.1: refuse floats instead of guessing.
    if isinstance(value, float):
        raise ConfigError(f"{where}: {value!r} reads as a number; quote it, e.g. '{value}'")
    if not isinstance(value, str | int) or isinstance(value, bool) or str(value).strip() == "":
        raise ConfigError(f"{where}: must be a non-empty string, got {value!r}")
    return str(value).strip()


def _quoted(where: str, value: Any) -> str:
    """A field YAML must hand over as a string: an unquoted 42, 1.10, yes or 2024-01-01 is
    refused with the hint to quote it (YAML may already have dropped digits)."""
    if isinstance(value, str):
        return _string(where, value)
    if isinstance(value, bool):
        raise ConfigError(f"{where}: reads as a boolean (an unquoted yes, no, on, off, true or "
                          "false); quote it")
    for kind, said in ((int | float, "a number"), (datetime.date, "a date")):
        if isinstance(value, kind):
            raise ConfigError(f"{where}: {value} reads as {said}; quote it, e.g. '{value}'")
    if value is None:
        raise ConfigError(f"{where}: is empty; give a value")
    shape = {"dict": "mapping"}.get(type(value).__name__, type(value).__name__)
    raise ConfigError(f"{where}: must be a string, got a {shape}")


def _image(where: str, value: Any) -> str:
    image = _string(where, value)
    if not _IMAGE.match(image):
        last = image.rsplit("/", 1)[-1]
        hint = "; put tags under base.tags and the version under pack_image.version" \
            if ":" in last or "@" in last else ""
        raise ConfigError(f"{where}: {image!r} is not an image name without tag "
                          f"(lowercase, e.g. 'stackstorm/st2'){hint}")
    return image


def _tag(where: str, value: Any) -> str:
    tag = _string(where, value)
    if not _TAG.match(tag):
        raise ConfigError(f"{where}: {tag!r} is not a valid image tag "
                          "(letters, digits, '_', '.', '-'; at most 128)")
    return tag


def _build_packages(where: str, value: Any) -> BuildPackages:
    lists = _mapping(where, value, _FORMATS, ())
    found: dict[str, tuple[str, ...]] = {}
    for fmt, names in lists.items():
        if not isinstance(names, list):
            raise ConfigError(f"{where}.{fmt}: must be a list of package names")
        for i, name in enumerate(names):
            if not isinstance(name, str) or not _PACKAGE.match(name):
                raise ConfigError(f"{where}.{fmt}[{i}]: {name!r} is not a package name "
                                  "(letters, digits, '+', '.', '_', ':', '-')")
        found[fmt] = tuple(names)
    return BuildPackages(**found)


def _packs(path: Path, items: Any) -> tuple[PackEntry, ...]:
    if not isinstance(items, list) or not items:
        raise ConfigError(f"{path}: pack_image.packs: must be a non-empty list of "
                          "{pack: NAME-OR-URL, ref: REF} entries")
    packs = []
    for i, item in enumerate(items):
        where = f"{path}: pack_image.packs[{i}]"
        entry = _mapping(where, item, ("pack", "ref"), ("pack",))
        ref = _quoted(f"{where}.ref", entry["ref"]) if "ref" in entry else None
        request = parse_source(_quoted(f"{where}.pack", entry["pack"]), ref,
                               f"{where}.pack", base_dir=path.parent.resolve())
        packs.append(PackEntry(request, where))
    return tuple(packs)


def load_spec(path: Path) -> Spec:
    """Read and validate a spec file; every error names the file and the field."""
    data = read_yaml(path, "spec file", "pass an existing spec path")
    top = _mapping(f"{path}", data, ("base", "pack_image"), ("base", "pack_image"))
    base = _mapping(f"{path}: base", top["base"], ("image", "tags"), ("image", "tags"))
    out = _mapping(f"{path}: pack_image", top["pack_image"],
                   ("image", "version", "packs", "build_packages"), ("image", "version", "packs"))

    tags = base["tags"]
    if not isinstance(tags, list) or not tags:
        raise ConfigError(f"{path}: base.tags: must be a non-empty list of tags, "
                          "e.g. ['3.9.0']")
    base_tags = tuple(_tag(f"{path}: base.tags[{i}]", tag) for i, tag in enumerate(tags))
    version = _tag(f"{path}: pack_image.version", out["version"])
    for tag in base_tags:
        _tag(f"{path}: pack_image.version + base.tags", f"{version}-{tag}")

    return Spec(
        path=path,
        base=BaseImage(_image(f"{path}: base.image", base["image"]), base_tags),
        image=_image(f"{path}: pack_image.image", out["image"]),
        version=version,
        packs=_packs(path, out["packs"]),
        build_packages=_build_packages(f"{path}: pack_image.build_packages",
                                       out.get("build_packages", {})),
    )
