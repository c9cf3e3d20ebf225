"""The recipe scripts of packaging/ as the build node runs them: requirements, version and the
generated maintainer library and rpm file list (fast, on this host), and whole package builds
through `st2pkg build` (Docker)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from tests.fixtures.st2src import make_st2_repo, source_env
from tests.support import ROOT, Cli

SCRIPTS = ROOT / "packaging" / "scripts"


def _rows(path: Path) -> list[str]:
    """First words of a packaging/ data file's rows."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return [line.split()[0] for line in lines if line.strip() and not line.startswith("#")]


UNITS = _rows(ROOT / "packaging" / "st2" / "services")
LINKS = _rows(ROOT / "packaging" / "st2" / "links")
COMPONENTS = {"st2common", "st2actions", "st2api", "st2stream", "st2auth", "st2reactor",
              "st2client"}


def script(name: str, *args: str, root: Path | None = None,
           env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("ST2PKG_")}
    if root is not None:
        full_env["ST2PKG_BUILD_ROOT"] = str(root)
    full_env.update(env or {})
    return subprocess.run([str(SCRIPTS / name), *args], capture_output=True, text=True,
                          env=full_env, check=False)


@pytest.fixture
def build_root(tmp_path: Path) -> Path:
    """A /build look-alike whose src/ is a git export of the fixture st2 tree."""
    repo = make_st2_repo(tmp_path / "repo", version="3.9.1")
    root = tmp_path / "build"
    shutil.copytree(repo, root / "src", ignore=shutil.ignore_patterns(".git"))
    return root


def test_version_reads_st2common_without_importing(build_root: Path) -> None:
    done = script("version", str(build_root / "src"))
    assert (done.returncode, done.stdout) == (0, "3.9.1\n")


def test_st2_requirements_are_pinned_sorted_and_stable(build_root: Path) -> None:
    first = script("requirements", "st2", root=build_root)
    assert first.returncode == 0, first.stderr
    lines = first.stdout.splitlines()
    assert lines == sorted(lines)
    assert {"gunicorn==23.0.0", "pika==1.3.2", "pg8000==1.31.2", "redis==5.0.8",
            "pip", "setuptools", "wheel"} <= set(lines)
    # Components are built from the tree, not listed; a VCS requirement is listed as written.
    assert not [line for line in lines if line.split()[0] in COMPONENTS]
    assert any(line.startswith("st2pkg-vcsdep @ git+") for line in lines)
    assert script("requirements", "st2", root=build_root).stdout == first.stdout


def test_st2client_requirements_name_the_pypi_release(tmp_path: Path) -> None:
    done = script("requirements", "st2client", root=tmp_path, env={"ST2PKG_VERSION": "3.9.0"})
    assert done.stdout.splitlines() == ["pip", "setuptools", "st2client==3.9.0", "wheel"]
    default = script("requirements", "st2client", root=tmp_path)
    assert "st2client==3.9.0" in default.stdout.splitlines()


@pytest.mark.parametrize(("args", "env", "message"), [
    (["requirements", "st2cli"], {}, "unknown package 'st2cli'"),
    (["requirements", "st2client"], {"ST2PKG_VERSION": "3.9-0"}, "is not a package version"),
    (["requirements", "st2"], {}, "not an st2 source tree"),
    (["build-package", "st2client"], {"ST2PKG_FORMAT": "zip"}, "must be deb or rpm"),
])
def test_bad_input_exits_2_with_nothing_on_stdout(tmp_path: Path, args: list[str],
                                                  env: dict[str, str], message: str) -> None:
    done = script(*args, root=tmp_path, env=env)
    assert done.returncode == 2
    assert done.stdout == ""
    assert message in done.stderr


def test_maintainer_lib_carries_units_and_directory_table() -> None:
    done = script("maintainer-lib", "st2")
    assert done.returncode == 0, done.stderr
    assert len(UNITS) == 11
    assert f'ST2_UNITS="{" ".join(UNITS)}"' in done.stdout
    assert "/opt/stackstorm/packs        2775 root st2packs rm" in done.stdout
    assert subprocess.run(["sh", "-n"], input=done.stdout, text=True, check=False).returncode == 0
    assert script("maintainer-lib", "st2client").stdout == ""


def test_rpm_file_list_from_a_laid_out_root(tmp_path: Path) -> None:
    for path in ("opt/stackstorm/st2/bin/python3.11", "etc/st2/st2.conf",
                 "usr/lib/systemd/system/st2api.service"):
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text("x", encoding="utf-8")
    (tmp_path / "usr/bin").mkdir()
    (tmp_path / "usr/bin/st2").symlink_to("/opt/stackstorm/st2/bin/st2")
    done = script("rpm-files", "st2", str(tmp_path))
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "/opt/stackstorm/st2"
    assert "%config(noreplace) /etc/st2/st2.conf" in lines
    assert "/usr/bin/st2" in lines
    assert "/usr/lib/systemd/system/st2api.service" in lines
    assert "%dir %attr(0755,st2,st2) /var/log/st2" in lines
    assert not [line for line in lines if "bin/python" in line]


@pytest.mark.skipif(shutil.which("shellcheck") is None, reason="shellcheck is not installed")
def test_recipe_shell_scripts_are_shellcheck_clean() -> None:
    packaging = ROOT / "packaging"
    shell = [p for p in sorted((packaging / "scripts").iterdir())
             if p.read_text(encoding="utf-8").startswith("#!/usr/bin/env bash")]
    shell += [packaging / "scripts" / "lib.sh", packaging / "st2" / "maintainer.sh",
              packaging / "st2" / "bin" / "st2-workers"]
    done = subprocess.run(["shellcheck", *map(str, shell)], capture_output=True, text=True,
                          check=False)
    assert done.returncode == 0, done.stdout


@pytest.mark.docker
def test_build_bookworm_st2client_and_st2_debs(cli: Cli, tmp_path: Path) -> None:
    repo = make_st2_repo(tmp_path)
    out = tmp_path / "out"
    cli("build", "--distro=bookworm", "--package=st2client,st2", f"--output={out}",
        extra_env=source_env(repo))
    debs = {p.name.split("_")[0]: p for p in (out / "bookworm").glob("*.deb")}
    assert set(debs) == {"st2", "st2client"}

    def deb(*args: str) -> str:
        return subprocess.run(["dpkg-deb", *args], capture_output=True, text=True,
                              check=True).stdout

    client = deb("-f", str(debs["st2client"]))
    assert "Version: 3.9.0-1" in client
    assert "Conflicts: st2" in client
    assert "libpython3.11-stdlib" in client
    contents = deb("-c", str(debs["st2"]))
    for name in LINKS:
        assert f"./usr/bin/{name} -> /opt/stackstorm/st2/bin/{name}" in contents
    for unit in UNITS:
        assert f"./usr/lib/systemd/system/{unit}.service" in contents
    assert "./opt/stackstorm/st2/bin/python3.11" in contents
    # What StackStorm's own package carries too: packs, the worker template, logging confs.
    for path in ("./opt/stackstorm/packs/core/pack.yaml", "./usr/share/doc/st2/examples/",
                 "./usr/lib/systemd/system/st2actionrunner@.service",
                 "./etc/st2/logging.api.gunicorn.conf", "./etc/st2/syslog.actionrunner.conf",
                 "./etc/bash_completion.d/st2", "./usr/share/doc/st2/conf/nginx/st2.conf"):
        assert path in contents, path
    depends = deb("-f", str(debs["st2"]), "Depends")
    for name in ("git", "sudo", "openssh-server", "libpam0g", "python3-dev"):
        assert re.search(rf"(^|, ){name}(,|$| )", depends), (name, depends)
    # 3.9dev is PEP 440's 3.9.dev0: a snapshot from the fixture's commit date and sha.
    assert re.search(r"^Version: 3\.9~~dev0\.20240101000000\.g[0-9a-f]{8}-1$",
                     deb("-f", str(debs["st2"])), re.MULTILINE)
    # The VCS requirement came from its mirror, and the manifest says which commit.
    assert "site-packages/st2pkg_vcsdep/__init__.py" in contents
    manifest = json.loads((out / "bookworm" / "manifest.json").read_text())
    [st2_deb] = [a for a in manifest["artifacts"] if a["name"] == "st2" and a["kind"] == "package"]
    [vcsdep] = st2_deb["vcs_requirements"]
    assert (vcsdep["name"], vcsdep["url"], vcsdep["ref"]) == (
        "st2pkg-vcsdep", "https://git.example.invalid/st2pkg/st2pkg-vcsdep.git", "main")
    assert re.fullmatch(r"[0-9a-f]{40}", vcsdep["commit"])
