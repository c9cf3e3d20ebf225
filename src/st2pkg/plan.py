"""Build planning: the source, each package's version and requirement set, resolved once for
every distro before any starts (bad input fails here, before a container is made)."""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from . import cachejournal, recipes, vcs
from .config import Options
from .context import RunContext
from .errors import ConfigError
from .recipes import Recipe
from .source import Source, fetch
from .vcs import Requirements
from .versions import package_version


@dataclass(frozen=True)
class BuildPlan:
    """What the builds of one run share."""

    recipes: list[Recipe]
    source: Source | None
    versions: dict[str, str]
    requirements: dict[str, Requirements]


def plan(context: RunContext) -> BuildPlan:
    """Fetch the source (a bad URL or revision is bad input, whatever this machine can run),
    check the distros can be provisioned, then settle versions and requirement sets."""
    opts = context.opts
    chosen = context.recipes
    # Bad input found here leaves the cache as it was (mirrors fetched for it are removed).
    with cachejournal.undone_on_bad_input():
        source = _source(opts, chosen)
        context.check_provisionable(opts.distros)
        versions = {r.name: _version(r, opts, source) for r in chosen}
        reqs = {r.name: _requirements(opts, r, versions[r.name], source) for r in chosen}
    # Said once the plan holds, so that bad input is one error line and nothing else.
    if source is not None:
        context.reporter.note(f"source: {source.shown_url} {source.rev} = {source.commit}")
    for found in reqs.values():
        for item in found.vcs:
            context.reporter.note(f"requirement {item.req.name}: {item.req.shown_url}@"
                                  f"{item.req.ref or 'HEAD'} = {item.commit}")
    return BuildPlan(chosen, source, versions, reqs)


def _source(opts: Options, chosen: Sequence[Recipe]) -> Source | None:
    if not any(r.needs_source for r in chosen):
        return None
    return fetch(opts.st2_giturl, opts.st2_gitrev, opts.cache_dir, opts.git_mirrors)


def _version(recipe: Recipe, opts: Options, source: Source | None) -> str:
    if opts.version:
        return opts.version
    if source and recipe.needs_source:
        # st2's __version__ is PEP 440 (3.10dev, 3.9.0rc1): mapped so packages sort right.
        return package_version(source.version(), commit=source.commit,
                               commit_time=source.commit_time(),
                               what=f"{source.shown_url}@{source.rev}: __version__")
    if not recipe.default_version:
        raise ConfigError(f"package {recipe.name}: no version known; set ST2PKG_VERSION")
    return recipe.default_version


def _requirements(opts: Options, recipe: Recipe, version: str,
                  source: Source | None) -> Requirements:
    """The recipe's requirement set, listed here and with its VCS requirements resolved."""
    with tempfile.TemporaryDirectory() as tmp:
        if source is not None and recipe.needs_source:
            source.export(Path(tmp) / "src", recipes.REQUIREMENT_FILES)
        text = recipes.requirements(recipe, version, Path(tmp))
    return vcs.resolve(text, opts.cache_dir, opts.git_mirrors)
