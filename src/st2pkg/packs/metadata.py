"""pack.yaml: the fields st2 needs to register a pack, validated with file-and-field errors."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from ..yamlfile import parse_yaml

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


def _ref(where: str, data: dict[str, Any], name: str) -> str:
    """The pack's ref: its 'ref' field, else its name when that is a valid ref."""
    if "ref" in data:
        ref = data["ref"]
        if not isinstance(ref, str) or not PACK_REF.match(ref):
            raise ConfigError(f"{where}: field 'ref' is {ref!r}; it must match "
                              f"{PACK_REF.pattern} (lowercase letters, digits, underscore)")
        return ref
    if PACK_REF.match(name):
        return name
    raise ConfigError(f"{where}: name {name!r} cannot be the pack ref (it must match "
                      f"{PACK_REF.pattern}); add a 'ref' field such as "
                      f"{re.sub(r'[^a-z0-9_]', '_', name.lower())!r}")


def _read(path: Path, label: str) -> str:
    where = f"{label}: pack.yaml"
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError as err:
        raise ConfigError(f"{label}: no pack.yaml at the top of the repository; "
                          "is this a StackStorm pack, and is the ref right?") from err
    except IsADirectoryError as err:
        raise ConfigError(f"{where}: is a directory, not a file; a pack keeps its metadata "
                          "in a pack.yaml file at its top") from err
    except UnicodeDecodeError as err:
        raise ConfigError(f"{where}: not UTF-8 text (byte {err.start}); save it as "
                          "UTF-8") from err
    except OSError as err:
        raise ConfigError(f"{where}: cannot be read ({err.strerror}); check its "
                          "permissions") from err


def load_pack_yaml(checkout: Path, label: str) -> PackMeta:
    """Read and validate ``checkout/pack.yaml``; ``label`` names the source and commit."""
    where = f"{label}: pack.yaml"
    data = parse_yaml(_read(checkout / "pack.yaml", label), where)
    if not isinstance(data, dict):
        raise ConfigError(f"{where}: must be a mapping of fields")

    name = _text(where, data, "name")
    version = data.get("version")
    if not isinstance(version, str) or not SEMVER.match(version):
        raise ConfigError(f"{where}: field 'version' is {version!r}; it must be a quoted "
                          "semver string X.Y.Z such as '1.0.0'")
    ref = _ref(where, data, name)
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
