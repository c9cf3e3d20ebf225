"""Nodes: bring one distro's compose project up (services healthy, nodes reachable over SSH
with pinned host keys) and down again."""

from __future__ import annotations

import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from fabric import Connection

from .compose import Project
from .containers import FileEntry
from .distros import Distro
from .errors import St2PkgError, StageError
from .inits import BUILD_INIT, InitName, fallback, init_mode, preferred
from .remote import NodeSession
from .report import Log
from .runner import check_cancel
from .services import ServiceImage
from .ssh import RunState, connect, wait_for_ssh

if TYPE_CHECKING:
    from .context import RunContext

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
    init: InitName

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

    def __init__(self, context: RunContext, distro: Distro, node_images: Mapping[str, str],
                 services: Mapping[str, ServiceImage]) -> None:
        self.docker = context.docker
        self.state = state = context.state
        self.distro = distro
        self.services = {n: s for n, s in services.items() if s.available}
        self.test_init = test_init = context.opts.test_init
        cgroup_mount, compose = context.opts.cgroup_mount, context.compose
        self.first = preferred(test_init)
        env = dict(os.environ)
        env.update({
            "ST2PKG_RUN": state.id, "ST2PKG_DISTRO": distro.name,
            "ST2PKG_PG_PASSWORD": state.pg_password, "ST2PKG_TEST_INIT": self.first,
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
            # The first error is the one to report; a failed cleanup only adds to the log.
            try:
                self.down(log)
            except St2PkgError as err:
                log(f"removing {self.project.name} failed too: {err}")
            raise

    def _up(self, roles: Sequence[str], log: Log) -> dict[str, Node]:
        services = list(self.services)
        self.project.create([*services, *roles], log)
        for role in roles:
            self._seed_keys(role)
        self.project.start([*services, *roles], log)
        nodes = {}
        for role in roles:
            nodes[role] = self._wait_node(role, self.first if role == "test" else BUILD_INIT,
                                          log)
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

    def _wait_node(self, role: str, init: InitName, log: Log) -> Node:
        name = self.container(role)
        deadline = time.monotonic() + SSH_TIMEOUT
        while True:
            status, _ = self.docker.state(name)
            if status in ("exited", "dead"):
                then = fallback(self.test_init, init)
                if then is not None:
                    return self._fallback(role, init, then, log)
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
            problem = init_mode(init, NodeSession(conn, log)).boot_problem()
        finally:
            conn.close()
        if problem is not None:
            then = fallback(self.test_init, init)
            if then is None:
                raise StageError(f"{name} did not come up with init {init}: {problem}")
            log(f"{role}: {problem}")
            return self._fallback(role, init, then, log)
        log(f"{role}: ssh root@127.0.0.1 -p {port} (init: {init})")
        return Node(self.distro.name, role, name, port, init)

    def _fallback(self, role: str, failed: InitName, then: InitName, log: Log) -> Node:
        log(f"{role}: {failed} cannot boot in this container runtime; restarting the node "
            f"with init {then!r}")
        self.project.env["ST2PKG_TEST_INIT"] = then
        self.project.create([role], log)
        self._seed_keys(role)
        self.project.start([role], log)
        return self._wait_node(role, then, log)

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
