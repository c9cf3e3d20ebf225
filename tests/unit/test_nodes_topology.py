"""One distro's compose project without Docker: the project name and environment compose is
given, cleanup when bringing it up fails, and the init fallback when a test node cannot boot.
A stand-in compose runs on PATH, the fake engine holds the containers, and a stand-in SSH
connection answers the boot check (the real SSH wait is tests/integration's business)."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.unit.fakes import (
    CATALOG,
    FakeCompose,
    FakeConnection,
    FakeContainer,
    FakeEngine,
    context,
    fake_compose,
)

from st2pkg import nodes
from st2pkg.context import RunContext
from st2pkg.errors import StageError
from st2pkg.nodes import Topology
from st2pkg.services import ServiceImage
from st2pkg.ssh import RunState

BOOKWORM = CATALOG.get("bookworm")
TEST_IMAGE = "st2pkg/test-bookworm:0123456789abcdef"
BOOT = "timeout 60 systemctl is-system-running --wait"
POSTGRES = ServiceImage("postgres", "postgres:16", "official image postgres:16 (pulled)")
NO_MONGO = ServiceImage("mongodb", None, "official image mongo:7 cannot be pulled")


@pytest.fixture
def compose(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> FakeCompose:
    return fake_compose(tmp_path, monkeypatch)


def topology(tmp_path: Path, fake: FakeEngine, config: str = "",
             services: dict[str, ServiceImage] | None = None) -> tuple[RunContext, Topology]:
    run = context(tmp_path, fake, config)
    return run, Topology(run, BOOKWORM, {"test": TEST_IMAGE}, services or {})


def add_service(fake: FakeEngine, run: RunContext, service: str, port: int | None = None,
                status: str = "running", health: str | None = None) -> FakeContainer:
    project = nodes.project_name(run.state.id, "bookworm")
    container = fake.add_container(f"{project}-{service}-1", **{
        "com.docker.compose.project": project, "com.docker.compose.service": service})
    container.port, container.status, container.health = port, status, health
    return container


def ssh_answers(monkeypatch: pytest.MonkeyPatch, *boots: str) -> list[FakeConnection]:
    """Stand in for sshd: each connection answers the systemd boot check with the next of
    ``boots``."""
    made: list[FakeConnection] = []

    def wait_for_ssh(state: RunState, node: str, port: int, deadline: float) -> FakeConnection:
        said = boots[len(made)] if len(made) < len(boots) else "running"
        made.append(FakeConnection({BOOT: (0, said + "\n")}))
        return made[-1]

    monkeypatch.setattr(nodes, "wait_for_ssh", wait_for_ssh)
    return made


def test_the_project_names_the_run_and_gives_compose_every_image(
        tmp_path: Path, compose: FakeCompose) -> None:
    run, made = topology(tmp_path, FakeEngine(), services={"postgres": POSTGRES,
                                                          "mongodb": NO_MONGO})
    state = run.state
    assert made.project.name == f"st2pkg-{state.id}-bookworm"
    env = made.project.env
    assert {k: v for k, v in env.items() if k.startswith("ST2PKG_")} == {
        "ST2PKG_RUN": state.id, "ST2PKG_DISTRO": "bookworm",
        "ST2PKG_PG_PASSWORD": state.pg_password, "ST2PKG_TEST_INIT": "systemd",
        "ST2PKG_CGROUP_MOUNT": "/sys/fs/cgroup:/sys/fs/cgroup:ro",
        "ST2PKG_POSTGRES_IMAGE": "postgres:16",
        "ST2PKG_RABBITMQ_IMAGE": "st2pkg/unavailable:none",
        "ST2PKG_REDIS_IMAGE": "st2pkg/unavailable:none",
        "ST2PKG_MONGODB_IMAGE": "st2pkg/unavailable:none",
        "ST2PKG_TEST_IMAGE": TEST_IMAGE, "ST2PKG_BUILD_IMAGE": "st2pkg/unused:none"}
    assert env["PATH"] == str(compose.bin_dir), "compose runs in the caller's environment"
    assert list(made.services) == ["postgres"], "an unavailable service is never started"


def test_the_first_init_follows_test_init(tmp_path: Path, compose: FakeCompose) -> None:
    _, made = topology(tmp_path, FakeEngine(), "test_init: plain\n")
    assert made.project.env["ST2PKG_TEST_INIT"] == "plain"


def test_a_container_is_found_by_its_compose_labels(tmp_path: Path,
                                                    compose: FakeCompose) -> None:
    fake = FakeEngine()
    run, made = topology(tmp_path, fake)
    add_service(fake, run, "test")
    fake.add_container("other-test-1", **{"com.docker.compose.project": "other",
                                          "com.docker.compose.service": "test"})
    assert made.container("test") == f"{made.project.name}-test-1"
    with pytest.raises(StageError, match=f"^{made.project.name}: no container for service "
                                         "postgres$"):
        made.container("postgres")


def test_a_failed_create_brings_the_project_down(tmp_path: Path, compose: FakeCompose) -> None:
    _, made = topology(tmp_path, FakeEngine())
    compose.fail("up")
    lines: list[str] = []
    with pytest.raises(StageError, match=f"^compose up for {made.project.name} failed: up: "
                                         "network st2pkg is in use$"):
        made.up(["test"], lines.append)
    assert compose.subcommands() == ["up --no-start --force-recreate test",
                                     "down --volumes --remove-orphans --timeout 5"]
    assert not any("failed too" in line for line in lines)


def test_a_failed_cleanup_is_logged_and_never_hides_the_first_error(
        tmp_path: Path, compose: FakeCompose) -> None:
    _, made = topology(tmp_path, FakeEngine())
    compose.fail("up", "down")
    lines: list[str] = []
    with pytest.raises(StageError, match=r"^compose up for "):
        made.up(["test"], lines.append)
    assert lines[-1] == (f"removing {made.project.name} failed too: compose down for "
                         f"{made.project.name} failed: down: network st2pkg is in use")


def test_keys_are_seeded_before_the_node_starts(tmp_path: Path, compose: FakeCompose,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    fake = FakeEngine()
    run, made = topology(tmp_path, fake)
    node = add_service(fake, run, "test", port=2222)
    ssh_answers(monkeypatch)
    made.up(["test"], print)
    files = node.files
    private, _ = run.state.host_key("bookworm-test")
    assert files["/etc/ssh/ssh_host_ed25519_key"].data == private
    assert files["/root/.ssh/authorized_keys"].data == (run.state.client_public + "\n").encode()
    assert files["/etc/st2pkg/services.env"].data == (
        f"ST2PKG_PG_PASSWORD={run.state.pg_password}\n".encode())
    assert {f.mode for f in files.values()} == {0o600}


def test_a_node_that_boots_is_reachable_with_its_init(tmp_path: Path, compose: FakeCompose,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    fake = FakeEngine()
    run, made = topology(tmp_path, fake, services={"postgres": POSTGRES})
    add_service(fake, run, "test", port=2222)
    add_service(fake, run, "postgres", health="healthy")
    connections = ssh_answers(monkeypatch, "degraded")
    lines: list[str] = []
    node = made.up(["test"], lines.append)["test"]
    assert (node.container, node.port, node.init, node.key_name) == (
        f"{made.project.name}-test-1", 2222, "systemd", "bookworm-test")
    assert compose.subcommands() == ["up --no-start --force-recreate postgres test",
                                     "start postgres test"]
    assert "test: ssh root@127.0.0.1 -p 2222 (init: systemd)" in lines
    assert "postgres: healthy (official image postgres:16 (pulled))" in lines
    assert [c.closed for c in connections] == [1], "the boot check's connection is closed"


def test_a_build_node_always_boots_plain(tmp_path: Path, compose: FakeCompose,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    fake = FakeEngine()
    run = context(tmp_path, fake, "test_init: systemd\n")
    made = Topology(run, BOOKWORM, {"build": "st2pkg/build-bookworm:x"}, {})
    add_service(fake, run, "build", port=2200)
    connections = ssh_answers(monkeypatch, "offline")
    assert made.up(["build"], print)["build"].init == "plain"
    assert connections[0].commands == [], "plain has no boot check to run"


def test_systemd_that_cannot_boot_falls_back_to_plain(tmp_path: Path, compose: FakeCompose,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    fake = FakeEngine()
    run, made = topology(tmp_path, fake)
    add_service(fake, run, "test", port=2222)
    ssh_answers(monkeypatch, "offline")
    lines: list[str] = []
    node = made.up(["test"], lines.append)["test"]
    assert node.init == "plain"
    assert "test: systemd says 'offline'" in lines
    assert ("test: systemd cannot boot in this container runtime; restarting the node with "
            "init 'plain'") in lines
    assert [c.split("|")[0] for c in compose.calls] == ["systemd", "systemd", "plain", "plain"]
    assert compose.subcommands()[2:] == ["up --no-start --force-recreate test", "start test"]


def test_pinned_systemd_that_cannot_boot_fails(tmp_path: Path, compose: FakeCompose,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    fake = FakeEngine()
    run, made = topology(tmp_path, fake, "test_init: systemd\n")
    add_service(fake, run, "test", port=2222)
    ssh_answers(monkeypatch, "offline")
    with pytest.raises(StageError, match=r"^systemd cannot boot in this container runtime and "
                                         r"test_init=systemd; use test_init=auto or plain$"):
        made.up(["test"], print)
    assert compose.subcommands()[-1].startswith("down "), "nothing is left behind"
    assert len(compose.calls) == 3


def test_a_node_that_exits_at_start_falls_back_then_fails_with_its_output(
        tmp_path: Path, compose: FakeCompose) -> None:
    fake = FakeEngine()
    run, made = topology(tmp_path, fake)
    node = add_service(fake, run, "test", status="exited")
    node.output = "Failed to mount cgroup\nnode-entry: giving up"
    with pytest.raises(StageError, match=f"^{node.name} exited at start: Failed to mount "
                                         "cgroup\nnode-entry: giving up$"):
        made.up(["test"], print)
    assert [c.split("|")[0] for c in compose.calls] == ["systemd"] * 2 + ["plain"] * 3
    assert compose.subcommands()[-1].startswith("down ")


def test_a_plain_node_that_exits_at_start_has_no_fallback(tmp_path: Path,
                                                          compose: FakeCompose) -> None:
    fake = FakeEngine()
    run, made = topology(tmp_path, fake, "test_init: plain\n")
    add_service(fake, run, "test", status="dead")
    with pytest.raises(StageError, match="exited at start"):
        made.up(["test"], print)
    assert compose.subcommands()[:2] == ["up --no-start --force-recreate test", "start test"]
    assert len(compose.calls) == 3


def test_an_unhealthy_service_stops_the_project(tmp_path: Path, compose: FakeCompose,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    fake = FakeEngine()
    run, made = topology(tmp_path, fake, services={"postgres": POSTGRES})
    add_service(fake, run, "test", port=2222)
    add_service(fake, run, "postgres", health="unhealthy").output = "FATAL: bad password"
    ssh_answers(monkeypatch)
    with pytest.raises(StageError, match=r"^service postgres failed to start "
                                         r"\(running/unhealthy\); last output:\nFATAL: bad "):
        made.up(["test"], print)
    assert compose.subcommands()[-1].startswith("down ")


def test_a_node_that_never_publishes_its_port_fails(tmp_path: Path, compose: FakeCompose,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    fake = FakeEngine()
    run, made = topology(tmp_path, fake)
    add_service(fake, run, "test", port=None)
    monkeypatch.setattr(nodes, "SSH_TIMEOUT", 0.0)
    with pytest.raises(StageError, match=r"publishes no 127\.0\.0\.1 port for 22/tcp"):
        made.up(["test"], print)
    assert compose.subcommands()[-1].startswith("down ")
