"""The PEP 440 -> deb/rpm version mapping, judged by dpkg's and rpm's own comparisons."""

from __future__ import annotations

import shutil
import subprocess
from itertools import pairwise

import pytest

from st2pkg.errors import ConfigError
from st2pkg.versions import package_version

# Ascending in PEP 440 order; each must stay ascending once mapped.
ASCENDING = ["3.9.0.dev0", "3.9.0.dev3", "3.9.0a1", "3.9.0a2", "3.9.0b1", "3.9.0rc1.dev1",
             "3.9.0rc1", "3.9.0rc2", "3.9.0", "3.9.0.post1.dev1", "3.9.0.post1", "3.9.0.1",
             "3.9.1", "3.10dev", "3.10.0", "3.10.1rc1", "3.10.1", "4.0"]


def _dpkg_lt(a: str, b: str) -> bool:
    return subprocess.run(["dpkg", "--compare-versions", a, "lt", b], check=False).returncode == 0


def _rpm_cmp(a: str, b: str) -> int:
    out = subprocess.run(["rpm", "--eval", f'%{{lua: print(rpm.vercmp("{a}", "{b}"))}}'],
                         check=True, capture_output=True, text=True).stdout
    return int(out.strip())


@pytest.mark.parametrize(("pep440", "expected"), [
    ("3.9.0", "3.9.0"), ("3.9.0rc1", "3.9.0~rc1"), ("3.9.0a2", "3.9.0~a2"),
    ("3.9.0b1", "3.9.0~b1"), ("3.9.0.post2", "3.9.0+post2"), ("3.9dev", "3.9~~dev0"),
    ("3.9.0rc1.dev2", "3.9.0~rc1~~dev2"), ("3.9.0-rc.1", "3.9.0~rc1"),
    ("1.0+local.7", "1.0+local.7"),
])
def test_mapping(pep440: str, expected: str) -> None:
    assert package_version(pep440) == expected


def test_dev_versions_get_a_snapshot_from_the_commit() -> None:
    got = package_version("3.10dev", commit="c2eaf56b3" + "0" * 31, commit_time=1764585900)
    assert got == "3.10~~dev0.20251201104500.gc2eaf56b"


def test_release_versions_ignore_the_commit() -> None:
    assert package_version("3.9.0", commit="ab" * 20, commit_time=1) == "3.9.0"


def test_not_pep440_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="'next' is not a PEP 440 version"):
        package_version("next")


@pytest.mark.skipif(shutil.which("dpkg") is None, reason="dpkg is not installed on this host")
def test_dpkg_orders_mapped_versions_like_pep440() -> None:
    mapped = [package_version(v) for v in ASCENDING]
    for low, high in pairwise(mapped):
        assert _dpkg_lt(low, high), f"dpkg: {low} should sort before {high}"


@pytest.mark.skipif(shutil.which("rpm") is None, reason="rpm is not installed on this host")
def test_rpm_orders_mapped_versions_like_pep440() -> None:
    mapped = [package_version(v) for v in ASCENDING]
    for low, high in pairwise(mapped):
        assert _rpm_cmp(low, high) == -1, f"rpm: {low} should sort before {high}"


def _snapshots() -> list[str]:
    commits = [("3.10dev", "f" * 40, 1_700_000_000), ("3.10dev", "0" * 40, 1_700_000_060),
               ("3.10dev", "a" * 40, 1_800_000_000)]
    return [package_version(v, commit=c, commit_time=t) for v, c, t in commits] + ["3.10"]


@pytest.mark.skipif(shutil.which("dpkg") is None or shutil.which("rpm") is None,
                    reason="dpkg and rpm are both needed on this host")
def test_snapshots_sort_in_commit_order_then_before_the_release() -> None:
    for low, high in pairwise(_snapshots()):
        assert _dpkg_lt(low, high), f"dpkg: {low} should sort before {high}"
        assert _rpm_cmp(low, high) == -1, f"rpm: {low} should sort before {high}"
