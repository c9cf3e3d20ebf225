from __future__ import annotations

from pathlib import Path

from tests.fixtures.commands import Scripted

from st2pkg.formats import FORMATS, Identity


def test_deb_identity_splits_release() -> None:
    out = "Package: st2client\nVersion: 3.9.0-2\nArchitecture: amd64\n"
    assert FORMATS["deb"].parse_identity(out) == Identity("st2client", "3.9.0", "2", "amd64")


def test_rpm_identity() -> None:
    out = "st2client\t3.9.0\t1\tx86_64\n"
    assert FORMATS["rpm"].parse_identity(out) == Identity("st2client", "3.9.0", "1", "x86_64")


def test_install_commands_quote_paths() -> None:
    deb, rpm = Scripted(), Scripted()
    FORMATS["deb"].install(deb, ["/tmp/a b.deb", "/tmp/c.deb"])
    FORMATS["rpm"].install(rpm, ["/x.rpm"])
    assert deb.commands[0].endswith("apt-get install -y -q --no-install-recommends "
                                    "'/tmp/a b.deb' /tmp/c.deb")
    assert rpm.commands == ["dnf install -y /x.rpm"]


def test_identify_runs_the_format_query() -> None:
    node = Scripted({"rpm -qp": (0, "st2\t3.9.0\t1\tx86_64\n")})
    assert FORMATS["rpm"].identify(node, "/o/st2 x.rpm") == Identity("st2", "3.9.0", "1",
                                                                    "x86_64")
    assert node.commands == ["rpm -qp --qf '%{NAME}\\t%{VERSION}\\t%{RELEASE}\\t%{ARCH}\\n' "
                             "'/o/st2 x.rpm'"]


def test_purge_leaves_the_exit_code_to_the_caller() -> None:
    node = Scripted({"DEBIAN_FRONTEND=noninteractive apt-get purge": (100, "E: nope\n")})
    result = FORMATS["deb"].purge(node, ["st2"])
    assert (result.exit, result.stdout) == (100, "E: nope\n")


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
