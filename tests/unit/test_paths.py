"""The data st2pkg runs on is reachable from the package, as it would be from a wheel."""

from __future__ import annotations

from st2pkg.distros import Catalog
from st2pkg.paths import COMPOSE_FILE, DATA, DISTROS_DIR, IMAGES_DIR, INFRA_SUITE, RECIPES_DIR


def test_data_holds_distros_packaging_compose_and_the_suite() -> None:
    assert (DISTROS_DIR / "formats.yml").is_file()
    assert (DISTROS_DIR / "services.yml").is_file()
    assert (IMAGES_DIR / "node" / "build.Dockerfile").is_file()
    assert (RECIPES_DIR / "st2" / "package.env").is_file()
    assert (RECIPES_DIR / "scripts" / "requirements").is_file()
    assert COMPOSE_FILE == DATA / "compose.yml"
    assert COMPOSE_FILE.is_file()
    assert (DATA / INFRA_SUITE / "conftest.py").is_file()


def test_the_catalog_loads_from_the_packaged_distros() -> None:
    catalog = Catalog.load(DISTROS_DIR)
    assert {"bullseye", "bookworm", "trixie", "jammy", "el9"} <= set(catalog.distros)
