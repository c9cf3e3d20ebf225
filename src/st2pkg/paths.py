"""Where the data st2pkg runs on lives: distros/, packaging/, compose.yml and the testinfra
suite (tests/infra). They sit at the top of the repository; the package reaches them through
its data/ directory, which links to them in a checkout and holds copies in a wheel."""

from __future__ import annotations

from pathlib import Path

DATA = Path(__file__).resolve().parent / "data"
DISTROS_DIR = DATA / "distros"
IMAGES_DIR = DISTROS_DIR / "images"
COMPOSE_FILE = DATA / "compose.yml"
RECIPES_DIR = DATA / "packaging"
# The verify stage runs `pytest tests/infra` from DATA, as a user runs it from a checkout.
INFRA_SUITE = "tests/infra"
