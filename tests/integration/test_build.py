"""The build stage as a release engineer runs it: real build nodes, real dpkg/rpmbuild."""

from __future__ import annotations

import json
import shutil
import subprocess
import uuid
from pathlib import Path

import pytest
from tests.fixtures.st2src import make_st2_repo, source_env
from tests.support import Cli, deb_field, in_image, verify_sums

pytestmark = pytest.mark.docker


def output_of(cli: Cli) -> Path:
    return Path(cli.env["ST2PKG_OUTPUT"])


@pytest.fixture(scope="module")
def st2_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_st2_repo(tmp_path_factory.mktemp("st2src"))


def test_st2client_deb_rpm_manifest_then_cached(cli: Cli) -> None:
    cli("build", "--distro=bookworm", "--package=st2client")
    out = output_of(cli) / "bookworm"
    (deb,) = out.glob("st2client_3.9.0-1_*.deb")
    contents = deb_field(deb, "-c")
    assert "./opt/stackstorm/st2client/bin/python" in contents
    assert "./usr/bin/st2 -> /opt/stackstorm/st2client/bin/st2" in contents
    assert "Package: st2client" in deb_field(deb, "-I")
    assert deb.name in verify_sums(out)
    manifest = json.loads((out / "manifest.json").read_text())
    by_kind = {a["kind"]: a for a in manifest["artifacts"]}
    assert by_kind["package"]["version"] == "3.9.0"
    assert by_kind["package"]["release"] == "1"
    assert by_kind["package"]["size"] == deb.stat().st_size
    rpm = out / by_kind["rpm-check"]["path"]
    assert rpm.is_file()
    info = in_image("build-bookworm", {str(rpm): "/x.rpm"}, ["rpm", "-qpi", "/x.rpm"])
    assert "Name        : st2client" in info
    listing = in_image("build-bookworm", {str(rpm): "/x.rpm"}, ["rpm", "-qpl", "/x.rpm"])
    assert "/usr/bin/st2" in listing.split()
    again = cli("build", "--distro=bookworm", "--package=st2client")
    assert "cached: inputs unchanged, nothing built" in again.stderr
    assert "up: started" not in again.stderr  # no node, no download, no build


def test_st2_bundle_from_fixture_then_source_change_reuses_wheelhouse(
        cli: Cli, st2_repo: Path) -> None:
    env = {**source_env(st2_repo), "ST2_GITREV": "master"}
    cli("build", "--distro=bookworm", "--package=st2", "--no-rpm-check", extra_env=env)
    out = output_of(cli) / "bookworm"
    (deb,) = out.glob("st2_*.deb")
    contents = deb_field(deb, "-c")
    for unit in ("st2api", "st2stream", "st2auth", "st2actionrunner", "st2notifier",
                 "st2rulesengine", "st2sensorcontainer", "st2garbagecollector",
                 "st2timersengine", "st2workflowengine", "st2scheduler"):
        assert f"/systemd/system/{unit}.service" in contents, unit
    for link in ("st2", "st2ctl", "st2-register-content", "st2-apply-rbac-definitions"):
        assert f"./usr/bin/{link} -> /opt/stackstorm/st2/bin/{link}" in contents, link
    for path in ("./etc/st2/st2.conf", "./etc/logrotate.d/st2", "./opt/stackstorm/packs/"):
        assert path in contents, path
    control = subprocess.run(["dpkg-deb", "--ctrl-tarfile", str(deb)], check=True,
                             capture_output=True).stdout
    assert b"stanley" in control  # maintainer scripts create the users
    # A source change that keeps the requirements: new package, wheelhouse reused.
    # Unique text: artifacts are keyed by tree content, and an earlier run of this very test
    # may already have built the tree that a fixed change would produce.
    (st2_repo / "CHANGELOG.rst").write_text(f"a change {uuid.uuid4()}\n")
    subprocess.run(["git", "-C", str(st2_repo), "add", "-A"], check=True)
    subprocess.run(["git", "-C", str(st2_repo), "commit", "-qm", "change"], check=True)
    again = cli("build", "--distro=bookworm", "--package=st2", "--no-rpm-check", extra_env=env)
    assert "build-st2: done" in again.stderr
    wheels_log = (out / "logs" / "wheels-st2.log").read_text()
    assert "requirement set already complete in the wheelhouse: nothing downloaded" in wheels_log


def test_bad_gitrev_is_one_clear_error_and_writes_nothing(cli: Cli, st2_repo: Path,
                                                          tmp_path: Path) -> None:
    out = tmp_path / "out"
    url = "file://user:pw@" + str(st2_repo)
    proc = cli("build", "--distro=bookworm", "--package=st2", f"--output={out}", check=False,
               extra_env={"ST2_GITURL": url, "ST2_GITREV": "no-such-ref"})
    assert proc.returncode == 2
    assert "ST2_GITREV 'no-such-ref'" in proc.stderr
    assert ":pw@" not in proc.stderr + proc.stdout
    assert not out.exists()


def test_unknown_package_is_a_usage_error(cli: Cli) -> None:
    proc = cli("build", "--package=st2clinet", check=False)
    assert proc.returncode == 2
    assert "did you mean 'st2client'" in proc.stderr


@pytest.mark.matrix
def test_three_debian_suites_in_parallel(cli: Cli) -> None:
    proc = cli("build", "--distro=bullseye,bookworm,trixie", "--package=st2client",
               "--no-rpm-check", "--jobs=3", check=False)
    for distro in ("bullseye", "bookworm"):
        assert list((output_of(cli) / distro).glob("st2client_*.deb")), proc.stderr
    # PyPI's st2client 3.9.0 imports `pipes`, gone in Python 3.13: on trixie the recipe's
    # smoke test refuses to ship a CLI that cannot start, and says why.
    assert proc.returncode == 1
    log = (output_of(cli) / "trixie" / "logs" / "build-st2client.log").read_text()
    assert "smoke test" in log
    assert "pipes" in log
    assert not list((output_of(cli) / "trixie").glob("st2client_*.deb"))


@pytest.mark.matrix
def test_recipe_broken_for_one_distro(cli: Cli, tmp_path: Path) -> None:
    recipes = tmp_path / "packaging"
    shutil.copytree(Path(__file__).resolve().parents[2] / "packaging", recipes)
    script = recipes / "scripts" / "build-package"
    text = script.read_text()
    script.write_text(text.replace("set -euo pipefail\n", "set -euo pipefail\n"
                                   'if [ "$ST2PKG_DISTRO" = trixie ]; then '
                                   'echo "broken on purpose" >&2; exit 3; fi\n', 1))
    out = tmp_path / "out"
    proc = cli("build", "--distro=bookworm,trixie", "--package=st2client", "--no-rpm-check",
               f"--output={out}", check=False, extra_env={"ST2PKG_RECIPES_DIR": str(recipes)})
    assert proc.returncode != 0
    assert list((out / "bookworm").glob("st2client_*.deb"))
    assert not list((out / "trixie").glob("*.deb"))
    assert f"log: {out / 'trixie' / 'logs' / 'build-st2client.log'}" in proc.stdout
    assert "broken on purpose" in (out / "trixie" / "logs" / "build-st2client.log").read_text()
