from __future__ import annotations

from pathlib import Path

from st2pkg.formats import FORMATS, Identity


def test_deb_identity_splits_release() -> None:
    out = "Package: st2client\nVersion: 3.9.0-2\nArchitecture: amd64\n"
    assert FORMATS["deb"].parse_identity(out) == Identity("st2client", "3.9.0", "2", "amd64")


def test_rpm_identity() -> None:
    out = "st2client\t3.9.0\t1\tx86_64\n"
    assert FORMATS["rpm"].parse_identity(out) == Identity("st2client", "3.9.0", "1", "x86_64")


def test_install_commands_quote_paths() -> None:
    assert "apt-get install" in FORMATS["deb"].install(["/tmp/a b.deb"])
    assert "'/tmp/a b.deb'" in FORMATS["deb"].install(["/tmp/a b.deb"])
    assert FORMATS["rpm"].install(["/x.rpm"]).startswith("dnf install -y")


def test_spec_check_plan_follows_the_format() -> None:
    from st2pkg.build import plan_jobs
    from st2pkg.distros import Catalog
    from st2pkg.recipes import Recipe
    from st2pkg.vcs import Requirements

    reqs = {"st2client": Requirements(("st2client==3.9.0",))}
    recipe = Recipe("st2client", Path("."), "pypi", "3.9.0", "/opt/stackstorm/st2client")
    catalog = Catalog.load()
    deb_jobs = plan_jobs(catalog.get("bookworm"), [recipe], {"st2client": "3.9.0"}, reqs, True)
    assert [(j.format, j.kind) for j in deb_jobs] == [("deb", "package"), ("rpm", "rpm-check")]
    rpm_jobs = plan_jobs(catalog.get("el9"), [recipe], {"st2client": "3.9.0"}, reqs, True)
    assert [(j.format, j.kind) for j in rpm_jobs] == [("rpm", "package")]
    assert [j.kind for j in plan_jobs(catalog.get("bookworm"), [recipe],
                                      {"st2client": "3.9.0"}, reqs, False)] == ["package"]
