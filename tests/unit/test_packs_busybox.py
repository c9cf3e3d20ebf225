"""The static busybox for pack images, fetched with the host's apt: cached once fetched, and
each way fetching fails says what to do. Stand-in apt-get and dpkg-deb run on PATH."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from st2pkg.errors import UnavailableError
from st2pkg.packs.busybox import static_busybox

# apt-get download: leave a .deb (or fail with $APT_SAYS); dpkg-deb --extract DEB DIR: make
# DIR/bin/busybox unless the .deb is empty.
APT_GET = """#!/bin/sh
echo "$@" >> ../../apt.calls
if [ -n "$APT_SAYS" ]; then echo "$APT_SAYS" >&2; exit 100; fi
[ -n "$APT_NO_DEB" ] || echo busybox > busybox-static_1.36.1-9_amd64.deb
"""
DPKG_DEB = """#!/bin/sh
[ -n "$DPKG_EMPTY" ] && exit 0
mkdir -p "$3/bin" && cp "$2" "$3/bin/busybox"
"""


@pytest.fixture
def tools(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("sh", "mkdir", "cp"):
        found = shutil.which(tool)
        assert found is not None
        (bin_dir / tool).symlink_to(found)
    for name, script in (("apt-get", APT_GET), ("dpkg-deb", DPKG_DEB)):
        (bin_dir / name).write_text(script)
        (bin_dir / name).chmod(0o755)
    monkeypatch.setenv("PATH", str(bin_dir))
    return bin_dir


def test_fetched_once_then_cached(tmp_path: Path, tools: Path) -> None:
    cache = tmp_path / "cache"
    made = static_busybox(cache)
    assert made == cache / "busybox" / "busybox"
    assert made.read_text() == "busybox\n"
    assert [p.name for p in made.parent.iterdir()] == ["busybox"], "no temporary left behind"
    assert (cache / "apt.calls").read_text() == "download --quiet busybox-static\n"
    assert static_busybox(cache) == made
    assert len((cache / "apt.calls").read_text().splitlines()) == 1


def test_without_apt_the_option_is_the_way(tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(UnavailableError, match=r"^apt-get is not installed: cannot fetch "
                                               r"Debian's busybox-static; set the busybox "
                                               r"option \(ST2PKG_BUSYBOX\)"):
        static_busybox(tmp_path / "cache")


def test_a_failing_apt_says_its_last_line(tmp_path: Path, tools: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("APT_SAYS", "E: Unable to locate package busybox-static")
    with pytest.raises(UnavailableError) as info:
        static_busybox(tmp_path / "cache")
    assert str(info.value) == (
        "apt-get download --quiet busybox-static failed (E: Unable to locate package "
        "busybox-static); run apt-get update, or set the busybox option (ST2PKG_BUSYBOX) to "
        "a static busybox")
    assert not (tmp_path / "cache" / "busybox" / "busybox").exists()


@pytest.mark.parametrize(("env", "says"), [
    ("APT_NO_DEB", "apt-get download left no busybox-static .deb in "),
    ("DPKG_EMPTY", "busybox-static_1.36.1-9_amd64.deb has no bin/busybox"),
])
def test_a_package_without_the_binary(tmp_path: Path, tools: Path,
                                      monkeypatch: pytest.MonkeyPatch, env: str,
                                      says: str) -> None:
    monkeypatch.setenv(env, "1")
    with pytest.raises(UnavailableError, match=f"^{says}"):
        static_busybox(tmp_path / "cache")
    assert list((tmp_path / "cache" / "busybox").iterdir()) == []
