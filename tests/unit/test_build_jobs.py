"""Build planning per distro: each package in the distro's format, plus an rpm spec check on
Debian-family build nodes when rpm_check is on (the build stage itself: tests/integration)."""

from __future__ import annotations

import pytest
from tests.unit.fakes import CATALOG

from st2pkg.build import plan_jobs
from st2pkg.paths import RECIPES_DIR
from st2pkg.recipes import load
from st2pkg.vcs import Requirements

RECIPES = [load("st2", RECIPES_DIR), load("st2client", RECIPES_DIR)]
VERSIONS = {"st2": "3.9.0~rc1", "st2client": "3.9.0"}
REQS = {"st2": Requirements(("pika==1.3.2",)), "st2client": Requirements(("six",))}


@pytest.mark.parametrize(("distro", "rpm_check", "expect"), [
    ("bookworm", True, [("deb", "package"), ("rpm", "rpm-check")]),
    ("bookworm", False, [("deb", "package")]),
    ("jammy", True, [("deb", "package"), ("rpm", "rpm-check")]),
    ("el9", True, [("rpm", "package")]),
])
def test_jobs_per_format(distro: str, rpm_check: bool, expect: list[tuple[str, str]]) -> None:
    jobs = plan_jobs(CATALOG.get(distro), RECIPES, VERSIONS, REQS, rpm_check)
    assert [(j.recipe.name, j.format, j.kind) for j in jobs] == [
        (r.name, fmt, kind) for fmt, kind in expect for r in RECIPES]
    assert {j.recipe.name: (j.version, j.requirements) for j in jobs} == {
        name: (VERSIONS[name], REQS[name]) for name in VERSIONS}
