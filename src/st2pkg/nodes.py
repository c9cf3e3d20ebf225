"""Nodes: bring one distro's compose project up (services healthy, nodes reachable over SSH
with pinned host keys) and down again."""

from __future__ import annotations

import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from fabric import Connection

from .compose import Project
from .containers import Docker, FileEntry
from .distros import Distro
from .errors import StageError
from .images import Log
from .runner import check_cancel
from .services import ServiceImage
from .ssh import RunState, connect, wait_for_ssh

Init = Literal["systemd", "plain"]
NODE_ROLES = ("build", "test")
SERVICE_TIMEOUT = 240.0
SSH_TIMEOUT = 90.0


@dataclass(frozen=True)
class Node:
    """A running build or test node and how to reach it."""

    distro: str
    role: str
    container: str
    port: int
    init: Init

    @property
    def key_name(self) -> str:
        return f"{self.distro}-{self.role}"

    def connect(self, state: RunState) -> Connection:
        """A fabric Connection pinned to this node's host key."""
        return connect(state, self.key_name, self.port)


def project_name(run_id: str, distro: str) -> str:
    """The compose project of one run and distro."""
    return f"st2pkg-{run_id}-{distro}"


class Topology:
    """One distro's compose project within a run."""

    def __init__(self, docker: Docker, compose: list[str], state: RunState, distro: Distro,
                 node_images: Mapping[str, str], services: Mapping[str, ServiceImage],
                 test_init: str = "auto", *, cgroup_mount: str) -> None:
        self.docker = docker
        self.state = state
        self.distro = distro
        self.services = {n: s for n, s in services.items() if s.available}
        self.test_init = test_init
        first: Init = "plain" if test_init == "plain" else "systemd"
        env = dict(os.environ)
        env.update({
            "ST2PKG_RUN": state.id, "ST2PKG_DISTRO": distro.name,
            "ST2PKG_PG_PASSWORD": state.pg_password, "ST2PKG_TEST_INIT": first,
            "ST2PKG_CGROUP_MOUNT": cgroup_mount,
        })
        for name in ("rabbitmq", "postgres", "redis", "mongodb"):
            image = services.get(name)
            env[f"ST2PKG_{name.upper()}_IMAGE"] = (image.ref if image and image.ref
                                                   else "st2pkg/unavailable:none")
        for role in NODE_ROLES:
            env[f"ST2PKG_{role.upper()}_IMAGE"] = node_images.get(role, "st2pkg/unused:none")
        self.project = Project(compose, project_name(state.id, distro.name), env)

    def container(self, service: str) -> str:
        """The container name compose gave ``service`` in this project."""
        found = self.docker.containers({"com.docker.compose.project": self.project.name,
                                        "com.docker.compose.service": service})
        if not found:
            raise StageError(f"{self.project.name}: no container for service {service}")
        return str(found[0].name)

    def up(self, roles: Sequence[str], log: Log) -> dict[str, Node]:
        """Create, seed with keys, start and wait for the services and the given nodes.
        Whatever fails (or is interrupted) on the way leaves nothing of the project behind."""
        try:
            return self._up(roles, log)
        except BaseException:
            self.down(log)
            raise

    def _up(self, roles: Sequence[str], log: Log) -> dict[str, Node]:
        services = list(self.services)
        self.project.create([*services, *roles], log)
        for role in roles:
            self._seed_keys(role)
        self.project.start([*services, *roles], log)
        nodes = {}
        for role in roles:
            init: Init = "plain" if role != "test" or self.test_init == "plain" else "systemd"
            nodes[role] = self._wait_node(role, init, log)
        self._wait_healthy(services, log)
        return nodes

    def down(self, log: Log) -> None:
        """Remove everything of this project."""
        self.project.down(log)

    def _seed_keys(self, role: str) -> None:
        private, _ = self.state.host_key(f"{self.distro.name}-{role}")
        self.docker.put_files(self.container(role), "/", {
            "etc/ssh/ssh_host_ed25519_key": FileEntry(private, 0o600),
            "root/.ssh/authorized_keys": FileEntry((self.state.client_public + "\n").encode(),
                                                   0o600),
            # SSH sessions do not see the container's environment: services' endpoints and
            # credentials reach node-side tools through this file.
            "etc/st2pkg/services.env": FileEntry(
                f"ST2PKG_PG_PASSWORD={self.state.pg_password}\n".encode(), 0o600),
        })

    def _wait_node(self, role: str, init: Init, log: Log) -> Node:
        name = self.container(role)
        deadline = time.monotonic() + SSH_TIMEOUT
        while True:
            status, _ = self.docker.state(name)
            if status in ("exited", "dead"):
                if init == "systemd":
                    return self._fallback(role, log)
                raise StageError(f"{name} exited at start: {self.docker.logs(name, 20)}")
            try:
                port = self.docker.published_port(name)
                break
            except StageError:
                if time.monotonic() > deadline:
                    raise
                check_cancel()
            time.sleep(0.5)
        conn = wait_for_ssh(self.state, f"{self.distro.name}-{role}", port, deadline)
        try:
            if init == "systemd":
                booted = conn.run("timeout 60 systemctl is-system-running --wait", warn=True,
                                  hide=True).stdout.strip()
                log(f"{role}: systemd says {booted!r}")
                if booted not in ("running", "degraded"):
                    return self._fallback(role, log)
        finally:
            conn.close()
        log(f"{role}: ssh root@127.0.0.1 -p {port} (init: {init})")
        return Node(self.distro.name, role, name, port, init)

    def _fallback(self, role: str, log: Log) -> Node:
        if self.test_init == "systemd":
            raise StageError(f"{role}: systemd cannot boot in this container runtime and "
                             "test_init=systemd; use test_init=auto or plain")
        log(f"{role}: systemd cannot boot in this container runtime; restarting the node with "
            "init 'plain' (services will be supervised by st2pkg)")
        self.project.env["ST2PKG_TEST_INIT"] = "plain"
        self.project.create([role], log)
        self._seed_keys(role)
        self.project.start([role], log)
        return self._wait_node(role, "plain", log)

    def _wait_healthy(self, services: Sequence[str], log: Log) -> None:
        deadline = time.monotonic() + SERVICE_TIMEOUT
        pending = list(services)
        while pending:
            for service in list(pending):
                name = self.container(service)
                status, health = self.docker.state(name)
                if health == "healthy":
                    log(f"{service}: healthy ({self.services[service].how})")
                    pending.remove(service)
                elif status in ("exited", "dead") or health == "unhealthy":
                    raise StageError(f"service {service} failed to start ({status}/{health}); "
                                     f"last output:\n{self.docker.logs(name, 30)}")
            if pending and time.monotonic() > deadline:
                raise StageError(f"services not healthy after {SERVICE_TIMEOUT:.0f}s: "
                                 f"{', '.join(pending)}")
            if pending:
                check_cancel()
                time.sleep(1)
