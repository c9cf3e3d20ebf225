"""What every stage of one task invocation works with, made once and handed along."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

from . import compose, recipes
from .config import Options, resolve
from .containers import Docker
from .distros import Catalog, Distro
from .engine import Engine
from .errors import ConfigError, UnavailableError
from .images import Images
from .report import Reporter
from .ssh import RunState


@dataclass
class RunContext:
    """Options and catalog, plus the engine, images, reporter, run state and compose command,
    each made on first use (a task that never starts a container never reaches the engine)."""

    catalog: Catalog
    opts: Options
    # The engine to use; None: the one the environment names (DOCKER_HOST), on first use.
    engine: Engine | None = None

    @cached_property
    def recipes(self) -> list[recipes.Recipe]:
        """The recipes of the packages chosen, in their order."""
        return [recipes.load(name, self.opts.recipes_dir) for name in self.opts.packages]

    @cached_property
    def docker(self) -> Engine:
        return self.engine or Docker.from_env()

    @cached_property
    def images(self) -> Images:
        return Images(self.docker, self.opts)

    @cached_property
    def reporter(self) -> Reporter:
        return Reporter(self.opts.output, debug_level=self.opts.debug_level)

    @cached_property
    def compose(self) -> list[str]:
        return compose.find(self.opts.compose)

    @cached_property
    def state(self) -> RunState:
        return RunState.create(self.opts.state_dir)

    def distro(self, name: str) -> Distro:
        return self.catalog.get(name)

    def check_output(self) -> None:
        """The output directory (or the nearest directory above it that exists) must be
        writable: a run that cannot write its logs or packages is refused before it starts."""
        output = self.opts.output
        existing = next(p for p in [output, *output.parents] if p.exists())
        if not os.access(existing, os.W_OK | os.X_OK):
            raise ConfigError(f"{self.opts.place('output')}: option 'output' is {output}, but "
                              f"{existing} is not writable here; choose another --output or "
                              "ST2PKG_OUTPUT, or make it writable")

    def check_provisionable(self, names: Sequence[str]) -> None:
        """Fail fast, before anything starts, for distros that cannot be provisioned here."""
        problems = []
        for name in names:
            ok, why = self.images.can_provision(self.catalog.get(name))
            if not ok:
                problems.append(f"{name}: {why}")
        if problems:
            raise UnavailableError("cannot provision on this machine:\n  "
                                   + "\n  ".join(problems))


def load(config: str | None, **cli: object) -> RunContext:
    """Load the catalog and resolve options for one task invocation; every option and the
    packages it names are checked here, before anything is written or started."""
    catalog = Catalog.load()
    context = RunContext(catalog, resolve(catalog, cli=cli, config_file=config))
    opts = context.opts
    if not recipes.known(opts.recipes_dir):
        raise ConfigError(f"{opts.place('recipes_dir')}: option 'recipes_dir' names "
                          f"{opts.recipes_dir}, which holds no recipe (<name>/package.env); "
                          "point it at a packaging/ directory, or leave it unset for the "
                          "recipes st2pkg ships")
    context.recipes  # noqa: B018 -- loading checks every package named
    if context.opts.config_file is not None and not context.opts.config_keys:
        context.reporter.note(f"config file {context.opts.config_file} sets no option")
    return context
