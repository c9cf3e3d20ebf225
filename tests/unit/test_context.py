"""RunContext: each part is made on first use, so a task that never starts a container never
reaches the engine; provisioning is checked for every distro at once, before anything starts."""

from __future__ import annotations

import gc
import os
import warnings
from pathlib import Path

import pytest
from tests.unit.fakes import CATALOG, FakeEngine, context, options

from st2pkg.context import RunContext, load
from st2pkg.errors import ConfigError, UnavailableError


@pytest.fixture
def no_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    """The environment names an engine that is not there."""
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent/st2pkg-tests/docker.sock")


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """The working directory is ``tmp_path`` and no st2pkg setting comes from outside."""
    for name in list(os.environ):
        if name.startswith(("ST2", "DEBUG_LEVEL", "GITHUB_")):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_parts_that_need_no_engine_never_reach_it(no_engine: None, tmp_path: Path) -> None:
    # Any of these reaching for the engine would fail: DOCKER_HOST names a missing socket.
    ctx = RunContext(CATALOG, options(tmp_path, "packages: [st2, st2client]\n"))
    assert [r.name for r in ctx.recipes] == ["st2", "st2client"]
    assert ctx.distro("bookworm").format == "deb"
    assert ctx.reporter.log_path("bookworm", "up") == tmp_path / "build/bookworm/logs/up.log"
    assert ctx.state.dir.is_dir()


@pytest.mark.xfail(strict=True, raises=AssertionError,
                   reason="the Docker SDK's unix-socket connection does not close its socket "
                   "when connect() fails (docker/transport/unixconn.py); st2pkg closes the "
                   "client, which cannot reach that socket")
def test_an_engine_that_cannot_be_reached_is_said_so_and_nothing_left_open(
        no_engine: None, tmp_path: Path) -> None:
    ctx = RunContext(CATALOG, options(tmp_path))
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always", ResourceWarning)
        with pytest.raises(UnavailableError, match="cannot reach the Docker engine"):
            ctx.docker  # noqa: B018 -- the first use connects
        gc.collect()
    assert [str(w.message) for w in seen if w.category is ResourceWarning] == []


def test_an_injected_engine_is_the_one_every_part_uses(no_engine: None, tmp_path: Path) -> None:
    fake = FakeEngine()
    fake.add_image("debian:bookworm")
    ctx = context(tmp_path, fake)
    assert ctx.images.can_provision(CATALOG.get("bookworm")) == (
        True, "registry image debian:bookworm present locally")
    assert ctx.docker.remove_labelled("st2pkg.run") == {
        "containers": 0, "networks": 0, "volumes": 0}
    assert ctx.images is ctx.images


def test_run_state_is_made_once_under_state_dir(tmp_path: Path) -> None:
    ctx = context(tmp_path, FakeEngine(), "state_dir: st\n")
    assert ctx.state is ctx.state
    assert ctx.state.dir.parent == tmp_path / "st" / "runs"
    assert ctx.state.client_public.startswith("ssh-ed25519 ")


def test_provisionable_when_the_registry_has_the_image(tmp_path: Path) -> None:
    fake = FakeEngine(registry={"debian:bookworm": {}})
    context(tmp_path, fake, "base_source: registry\n").check_provisionable(["bookworm"])
    assert fake.pulls == [], "checking asks for the manifest only"


def test_every_distro_that_cannot_be_had_is_named_at_once(tmp_path: Path) -> None:
    fake = FakeEngine(registry={"debian:bookworm": {}})
    ctx = context(tmp_path, fake, "base_source: registry\n")
    with pytest.raises(UnavailableError) as info:
        ctx.check_provisionable(["bookworm", "jammy", "el9"])
    lines = str(info.value).splitlines()
    assert lines[0] == "cannot provision on this machine:"
    assert [line.split(":")[0].strip() for line in lines[1:]] == ["jammy", "el9"]
    assert "ubuntu:jammy cannot be pulled" in lines[1]
    assert info.value.exit_code == 3


def test_load_notes_a_config_file_that_sets_nothing(clean_env: Path, no_engine: None,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    (clean_env / "empty.yml").write_text("# nothing yet\n")
    ctx = load(str(clean_env / "empty.yml"))
    assert f"config file {clean_env / 'empty.yml'} sets no option" in capsys.readouterr().err
    assert ctx.opts.output == clean_env / "build"


def test_load_is_quiet_about_a_config_file_that_sets_options(
        clean_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (clean_env / "st2pkg.yml").write_text("release: '4'\n")
    assert load(None).opts.release == "4"
    assert "sets no option" not in capsys.readouterr().err


def test_load_checks_every_package_named(clean_env: Path, no_engine: None) -> None:
    with pytest.raises(ConfigError, match=r"no recipe 'st2clinet'.*did you mean 'st2client'"):
        load(None, packages="st2,st2clinet")
