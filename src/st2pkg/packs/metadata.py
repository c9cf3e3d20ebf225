"""pack.yaml: the fields st2 needs to register a pack, validated with file-and-field errors."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from ..errors import ConfigError

PACK_REF = re.compile(r"^[a-z0-9_]+$")
SEMVER = re.compile(r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)$")
_PYTHON_VERSIONS = ("2", "3")


@dataclass(frozen=True)
class PackMeta:
    """The parts of pack.yaml the pipeline uses."""

    ref: str
    name: str
    version: str
    description: str
    author: str
    dependencies: tuple[str, ...]
    python_versions: tuple[str, ...]
    stackstorm_version: str | None


def _text(where: str, data: dict[str, Any], key: str) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"{where}: field '{key}' is required and must be a non-empty string")
    return value.strip()


def _strings(where: str, data: dict[str, Any], key: str,
             kinds: tuple[type, ...] = (str,)) -> tuple[str, ...]:
    value = data.get(key, [])
    if value is None:
        return ()
    if not isinstance(value, list) or not all(
            isinstance(v, kinds) and not isinstance(v, bool) for v in value):
        raise ConfigError(f"{where}: field '{key}' must be a list of strings")
    return tuple(str(v) for v in value)


def load_pack_yaml(checkout: Path, label: str) -> PackMeta:
    """Read and validate ``checkout/pack.yaml``; ``label`` names the source and commit."""
    where = f"{label}: pack.yaml"
    try:
        data = yaml.safe_load((checkout / "pack.yaml").read_text(encoding="utf-8"))
    except FileNotFoundError as err:
        raise ConfigError(f"{label}: no pack.yaml at the top of the repository; "
                          "is this a StackStorm pack, and is the ref right?") from err
    except (yaml.YAMLError, UnicodeDecodeError) as err:
        raise ConfigError(f"{where}: not valid YAML: {err}") from err
    if not isinstance(data, dict):
        raise ConfigError(f"{where}: must be a mapping of fields")

    name = _text(where, data, "name")
    version = data.get("version")
    if not isinstance(version, str) or not SEMVER.match(version):
        raise ConfigError(f"{where}: field 'version' is {version!r}; it must be a quoted "
                          "semver string X.Y.Z such as '1.0.0'")
    if "ref" in data:
        ref = data["ref"]
        if not isinstance(ref, str) or not PACK_REF.match(ref):
            raise ConfigError(f"{where}: field 'ref' is {ref!r}; it must match "
                              f"{PACK_REF.pattern} (lowercase letters, digits, underscore)")
    elif PACK_REF.match(name):
        ref = name
    else:
        raise ConfigError(f"{where}: name {name!r} cannot be the pack ref (it must match "
                          f"{PACK_REF.pattern}); add a 'ref' field such as "
                          f"{re.sub(r'[^a-z0-9_]', '_', name.lower())!r}")
    # YAML reads an unquoted `- 3` as an int; accept it as the string st2 expects.
    pythons = _strings(where, data, "python_versions", (str, int))
    for item in pythons:
        if item not in _PYTHON_VERSIONS:
            raise ConfigError(f"{where}: python_versions entry {item!r} must be one of "
                              f"{', '.join(_PYTHON_VERSIONS)}")
    st2_version = data.get("stackstorm_version")
    if st2_version is not None and not isinstance(st2_version, str):
        raise ConfigError(f"{where}: field 'stackstorm_version' must be a string such as "
                          "'>=3.0.0'")
    return PackMeta(
        ref=ref,
        name=name,
        version=version,
        description=_text(where, data, "description"),
        author=_text(where, data, "author"),
        dependencies=_strings(where, data, "dependencies"),
        python_versions=pythons,
        stackstorm_version=st2_version,
    )
