"""Package recipes: packaging/<name>/ with its package.env (data read by the recipe's shell
scripts on the build node, and by us for the few facts the host needs)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, cast

from .errors import ConfigError, SourceError, suggest
from .imagecache import context_hash

SourceKind = Literal["tree", "pypi"]
_ASSIGN = re.compile(r"^([a-z_]+)=(.*)$")


@dataclass(frozen=True)
class Recipe:
    """One package recipe."""

    name: str
    root: Path
    source_kind: SourceKind
    default_version: str | None
    venv: str

    @property
    def needs_source(self) -> bool:
        return self.source_kind == "tree"

    def rows(self, data_file: str) -> list[list[str]]:
        """Rows of packaging/<name>/<data_file>, split into words, without comments and
        blank lines ([] when the recipe has no such file). Recipes, the verify stage and the
        testinfra suite all read the recipe data through this."""
        path = self.root / self.name / data_file
        if not path.is_file():
            return []
        lines = (line.strip() for line in path.read_text(encoding="utf-8").splitlines())
        return [line.split() for line in lines if line and not line.startswith("#")]

    @property
    def units(self) -> list[str]:
        """The systemd units the package ships (first column of its ``services`` file)."""
        return [row[0] for row in self.rows("services")]


def known(root: Path) -> list[str]:
    """Names of every recipe under ``root``."""
    return sorted(p.parent.name for p in root.glob("*/package.env"))


def load(name: str, root: Path) -> Recipe:
    """The recipe called ``name``; ConfigError listing the known ones when there is none."""
    env_file = root / name / "package.env"
    if not env_file.is_file():
        names = known(root)
        raise ConfigError(f"--package / ST2_PACKAGES: no recipe {name!r} in {root}"
                          f"{suggest(name, names)}; known: {', '.join(names)}")
    values: dict[str, str] = {}
    for line in env_file.read_text(encoding="utf-8").splitlines():
        match = _ASSIGN.match(line.strip())
        if match:
            values[match.group(1)] = match.group(2).strip().strip("\"'")
    kind = values.get("source_kind")
    if kind not in ("tree", "pypi"):
        raise ConfigError(f"{env_file}: source_kind must be tree or pypi, not {kind!r}")
    return Recipe(name, root, cast(SourceKind, kind), values.get("default_version"),
                  values.get("venv", ""))


# What scripts/requirements reads of an st2 source tree.
REQUIREMENT_FILES = ("fixed-requirements.txt", "*/setup.py", "*/requirements.txt",
                     "contrib/runners/*/setup.py", "contrib/runners/*/requirements.txt")


def requirements(recipe: Recipe, version: str, build_root: Path) -> str:
    """The recipe's requirement set as ``scripts/requirements`` prints it. It runs on this
    host (it reads only the recipes and ``build_root``/src, the source's requirement files),
    so the set and its VCS commits are known before any node starts."""
    env = dict(os.environ, ST2PKG_BUILD_ROOT=str(build_root), ST2PKG_VERSION=version,
               ST2PKG_PYTHON=sys.executable, LC_ALL="C")
    done = subprocess.run(["bash", str(recipe.root / "scripts" / "requirements"), recipe.name],
                          env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        said = done.stderr.strip().splitlines()[-1:] or ["no output"]
        raise SourceError(f"package {recipe.name}: its requirements cannot be listed: {said[0]}")
    return done.stdout


def recipes_hash(root: Path) -> str:
    """Hash of everything under the recipes directory: any recipe or script change rebuilds."""
    return context_hash(root)
