"""Images over the fake engine: where a base image comes from (and why not), node images
reused while their inputs are unchanged and rebuilt when not, and the st2 image's tags."""

from __future__ import annotations

import gc
import os
import warnings
from pathlib import Path

import pytest
from tests.unit.fakes import CATALOG, FakeEngine, options

from st2pkg.errors import StageError, UnavailableError
from st2pkg.imagecache import INPUTS_LABEL
from st2pkg.images import Images

BOOKWORM = CATALOG.get("bookworm")
JAMMY = CATALOG.get("jammy")
needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="bootstrapping needs root")


def images(tmp_path: Path, fake: FakeEngine, config: str = "") -> Images:
    return Images(fake, options(tmp_path, config))


@pytest.fixture
def fake_debootstrap(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A debootstrap on PATH that makes a one-file root file system and records its argv."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    script = bin_dir / "debootstrap"
    # debootstrap [--option...] SUITE TARGET [MIRROR]
    script.write_text('#!/bin/sh\necho "$@" >> "$(dirname "$0")/calls"\nshift\n'
                      'mkdir -p "$2/etc" && echo 12 > "$2/etc/debian_version"\n')
    script.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    return bin_dir / "calls"



@pytest.mark.parametrize(("config", "registry", "local", "expect"), [
    ("", {}, True, "registry image debian:bookworm present locally"),
    ("", {"debian:bookworm": {}}, False, "registry image debian:bookworm can be pulled"),
    ("base_source: registry\n", {}, False, None),
])
def test_can_provision_from_the_registry(tmp_path: Path, config: str,
                                         registry: dict[str, dict[str, str]], local: bool,
                                         expect: str | None) -> None:
    fake = FakeEngine(registry=registry)
    if local:
        fake.add_image("debian:bookworm")
    ok, how = images(tmp_path, fake, config).can_provision(BOOKWORM)
    if expect is None:
        assert not ok
        assert how == "registry image debian:bookworm cannot be pulled (no registry)"
    else:
        assert (ok, how) == (True, expect)
    assert fake.pulls == []


def test_ubuntu_without_a_registry_cannot_be_bootstrapped(tmp_path: Path) -> None:
    ok, why = images(tmp_path, FakeEngine()).can_provision(JAMMY)
    assert not ok
    assert why == ("registry image ubuntu:jammy cannot be pulled (no registry); no bootstrap "
                   "from Debian's archive for ubuntu (only Debian suites can be bootstrapped)")


def test_without_debootstrap_the_reason_says_so(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    ok, why = images(tmp_path, FakeEngine()).can_provision(BOOKWORM)
    assert not ok
    assert why.endswith("; debootstrap is not installed (./bootstrap installs it as root)")


@needs_root
def test_bootstrap_is_offered_and_the_registry_skipped_when_asked(
        tmp_path: Path, fake_debootstrap: Path) -> None:
    fake = FakeEngine(registry={"debian:bookworm": {}})
    ok, how = images(tmp_path, fake, "base_source: bootstrap\n").can_provision(BOOKWORM)
    assert (ok, how) == (True, "bootstrap bookworm from Debian's archive")


@needs_root
def test_a_bootstrapped_base_is_imported_once(tmp_path: Path, fake_debootstrap: Path) -> None:
    fake = FakeEngine()
    made = images(tmp_path, fake, "debian_mirror: http://deb.example.invalid/debian\n")
    lines: list[str] = []
    with warnings.catch_warnings():
        # The leak is test_bootstrapping_leaves_no_pipe_open's business.
        warnings.simplefilter("ignore", ResourceWarning)
        first = made.base(BOOKWORM, lines.append)
        again = made.base(BOOKWORM, lines.append)
    assert first.built
    assert first.ref.startswith("st2pkg/base-bookworm:")
    assert fake.image_labels(first.ref)[INPUTS_LABEL] == first.ref.rsplit(":", 1)[1]
    assert "running debootstrap --variant=minbase bookworm" in lines[2]
    assert "deb.example.invalid" not in "\n".join(lines), "the mirror URL may hold credentials"
    assert fake.pulls == ["debian:bookworm", "debian:bookworm"], "the registry is tried first"
    assert (again.ref, again.built, again.how) == (first.ref, False, "bootstrapped image cached")
    assert len(fake_debootstrap.read_text().splitlines()) == 1


@needs_root
def test_bootstrapping_leaves_no_pipe_open(tmp_path: Path, fake_debootstrap: Path) -> None:
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always", ResourceWarning)
        images(tmp_path, FakeEngine()).base(BOOKWORM, print)
        gc.collect()
    assert [str(w.message) for w in seen if w.category is ResourceWarning] == []


def test_a_base_that_cannot_be_had_stops_the_distro(tmp_path: Path) -> None:
    lines: list[str] = []
    with pytest.raises(UnavailableError, match=r"^jammy cannot be provisioned here: cannot pull "):
        images(tmp_path, FakeEngine()).base(JAMMY, lines.append)
    assert lines[0] == "pulling ubuntu:jammy"


def test_a_node_image_is_reused_while_its_inputs_are_unchanged(tmp_path: Path) -> None:
    fake = FakeEngine(registry={"debian:bookworm": {}})
    made = images(tmp_path, fake)
    lines: list[str] = []
    first = made.node(BOOKWORM, "build", lines.append)
    assert (first.built, first.how) == (True, "built")
    assert first.ref.startswith("st2pkg/build-bookworm:")
    tag, buildargs, labels = fake.builds[0]
    assert tag == first.ref
    assert buildargs["BASE"] == "debian:bookworm"
    assert set(BOOKWORM.build_packages) <= set(buildargs["PACKAGES"].split())
    assert labels["st2pkg.image"] == "build-bookworm"
    again = made.node(BOOKWORM, "build", lines.append)
    assert (again.ref, again.built) == (first.ref, False)
    assert len(fake.builds) == 1
    test_node = made.node(BOOKWORM, "test", lines.append)
    assert test_node.ref != first.ref
    assert test_node.built


def test_an_image_whose_label_does_not_match_is_rebuilt(tmp_path: Path) -> None:
    fake = FakeEngine(registry={"debian:bookworm": {}})
    made = images(tmp_path, fake)
    first = made.node(BOOKWORM, "build", print)
    fake.images[first.ref].labels[INPUTS_LABEL] = "made-from-something-else"
    again = made.node(BOOKWORM, "build", print)
    assert (again.ref, again.built) == (first.ref, True)
    assert len(fake.builds) == 2


def test_a_new_base_image_means_new_node_images(tmp_path: Path) -> None:
    fake = FakeEngine()
    fake.add_image("debian:bookworm")
    made = images(tmp_path, fake)
    first = made.node(BOOKWORM, "build", print)
    fake.add_image("debian:bookworm")  # the registry image moved on: a new id
    assert made.node(BOOKWORM, "build", print).ref != first.ref


def test_a_failed_build_is_a_stage_error(tmp_path: Path) -> None:
    fake = FakeEngine(registry={"debian:bookworm": {}},
                      build_errors={"st2pkg/test-bookworm": "apt-get: no space left"})
    with pytest.raises(StageError, match="apt-get: no space left"):
        images(tmp_path, fake).node(BOOKWORM, "test", print)


def test_st2_image_tags_have_no_tilde_or_plus(tmp_path: Path) -> None:
    fake = FakeEngine(registry={"debian:bookworm": {}})
    package = tmp_path / "st2_3.10~~dev0.20240101000000.gabcdef12+local-1_amd64.deb"
    package.write_bytes(b"!<arch>\n")
    made = images(tmp_path, fake).st2(BOOKWORM, [package], "3.10~~dev0.20240101.gabc+post1",
                                      print)
    assert made.ref == "st2pkg/st2:3.10--dev0.20240101.gabc-post1-bookworm"
    assert fake.tags == [(made.ref, "st2pkg/st2:bookworm")]
    assert fake.builds[0][2]["st2pkg.image"] == "st2-bookworm"
    again = images(tmp_path, fake).st2(BOOKWORM, [package], "3.10~~dev0.20240101.gabc+post1",
                                       print)
    assert (again.built, again.how) == (False, "cached (inputs unchanged)")
