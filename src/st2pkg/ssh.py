"""Per-run SSH material and the one fabric Connection factory.

Every run gets a fresh client key and fresh host keys for each node; the host keys are
copied into the nodes before they start and pinned on the client side, so a connection to
anything else is refused (no trust on first use). sshd is only published on 127.0.0.1.
"""

from __future__ import annotations

import base64
import json
import logging
import secrets
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import paramiko
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fabric import Connection

from .errors import ConfigError, StageError
from .runner import check_cancel

HOST = "127.0.0.1"
# Retries while sshd starts make paramiko log tracebacks; our own errors say what failed.
logging.getLogger("paramiko").addHandler(logging.NullHandler())
logging.getLogger("paramiko").propagate = False
# A node that vanishes (its container killed, its engine gone) must be noticed in seconds,
# not when a read that waits forever returns: SSH pings every KEEPALIVE seconds, and the
# kernel drops a connection whose data stays unacknowledged for DEAD_AFTER seconds.
KEEPALIVE = 5
DEAD_AFTER = 15
# What fabric reports for a command whose channel closed without an exit status.
_NO_EXIT_STATUS = -1


def new_key(comment: str) -> tuple[bytes, str]:
    """A new Ed25519 key: (OpenSSH private key bytes, public key line)."""
    key = Ed25519PrivateKey.generate()
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH,
                                serialization.NoEncryption())
    public = key.public_key().public_bytes(serialization.Encoding.OpenSSH,
                                           serialization.PublicFormat.OpenSSH).decode()
    return private, f"{public} {comment}"


@dataclass(frozen=True)
class RunState:
    """The files of one run under <state_dir>/runs/<id>/ (keys, service password)."""

    id: str
    dir: Path

    @classmethod
    def create(cls, state_dir: Path) -> RunState:
        """A new run with a unique id and a fresh client key."""
        run_id = time.strftime("%Y%m%d%H%M%S") + "-" + secrets.token_hex(2)
        state = cls(run_id, state_dir / "runs" / run_id)
        state.dir.mkdir(parents=True, mode=0o700)
        private, public = new_key(f"st2pkg-run-{run_id}")
        state.client_key.write_bytes(private)
        state.client_key.chmod(0o600)
        (state.dir / "client_ed25519.pub").write_text(public + "\n")
        (state.dir / "secrets.json").write_text(json.dumps({"pg": secrets.token_urlsafe(18)}))
        (state.dir / "secrets.json").chmod(0o600)
        return state

    @classmethod
    def load(cls, state_dir: Path, run_id: str) -> RunState:
        """An existing run's state; ConfigError when this checkout has none for it."""
        state = cls(run_id, state_dir / "runs" / run_id)
        if not state.client_key.exists():
            raise ConfigError(f"run {run_id}: no keys under {state.dir}; the nodes were started "
                              "from another checkout or state_dir (set --state-dir / "
                              "ST2PKG_STATE_DIR to that one)")
        return state

    @property
    def client_key(self) -> Path:
        return self.dir / "client_ed25519"

    @property
    def client_public(self) -> str:
        return (self.dir / "client_ed25519.pub").read_text().strip()

    @property
    def pg_password(self) -> str:
        return str(json.loads((self.dir / "secrets.json").read_text())["pg"])

    def host_key(self, node: str) -> tuple[bytes, str]:
        """The node's host key (private bytes, public line), made on first use."""
        private_path = self.dir / "hosts" / f"{node}_ed25519"
        public_path = private_path.with_suffix(".pub")
        if not private_path.exists():
            private_path.parent.mkdir(mode=0o700, exist_ok=True)
            private, public = new_key(f"st2pkg-{node}")
            private_path.write_bytes(private)
            private_path.chmod(0o600)
            public_path.write_text(public + "\n")
        return private_path.read_bytes(), public_path.read_text().strip()


def write_ssh_config(state: RunState, nodes: dict[str, int]) -> Path:
    """Write <run>/ssh_config and <run>/known_hosts for ``nodes`` (name -> port), so the
    OpenSSH client (and testinfra) reach each node as ``ssh -F <run>/ssh_config <name>`` with
    its pinned host key and nothing else. Entries for other nodes of the run are kept."""
    config, known = state.dir / "ssh_config", state.dir / "known_hosts"
    ports = dict(json.loads((state.dir / "ports.json").read_text())) \
        if (state.dir / "ports.json").exists() else {}
    ports.update(nodes)
    (state.dir / "ports.json").write_text(json.dumps(ports))
    blocks, lines = [], []
    for name, port in sorted(ports.items()):
        _, public = state.host_key(name)
        lines.append(f"[{HOST}]:{port} {' '.join(public.split()[:2])}")
        # Paths are quoted: a state dir may have spaces in its path.
        blocks.append(f"Host {name}\n  HostName {HOST}\n  Port {port}\n  User root\n"
                      f'  IdentityFile "{state.client_key}"\n  IdentitiesOnly yes\n'
                      f'  UserKnownHostsFile "{known}"\n  StrictHostKeyChecking yes\n'
                      f"  GlobalKnownHostsFile /dev/null\n  LogLevel ERROR\n")
    known.write_text("\n".join(lines) + "\n")
    config.write_text("\n".join(blocks))
    return config


class NodeConnection(Connection):  # type: ignore[misc]
    """A fabric Connection to one node that notices quickly when the node is gone and then
    says so, instead of a bare exit status or a paramiko error."""

    def __init__(self, node: str, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.node = node

    def open(self) -> Any:
        result = super().open()
        transport = self.client.get_transport()
        if transport is not None:
            transport.set_keepalive(KEEPALIVE)
            if hasattr(socket, "TCP_USER_TIMEOUT"):
                transport.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_USER_TIMEOUT,
                                          DEAD_AFTER * 1000)
        return result

    def run(self, command: str, **kwargs: Any) -> Any:
        with self._said_when_gone():
            result = super().run(command, **kwargs)
        if result.exited == _NO_EXIT_STATUS and not self.is_connected:
            raise self._lost(None)
        return result

    def put(self, *args: Any, **kwargs: Any) -> Any:
        with self._said_when_gone():
            return super().put(*args, **kwargs)

    def get(self, *args: Any, **kwargs: Any) -> Any:
        with self._said_when_gone():
            return super().get(*args, **kwargs)

    @contextmanager
    def _said_when_gone(self) -> Iterator[None]:
        """Refuse to reconnect to a node whose connection dropped (fabric would open a new
        one, and a port the engine still forwards to a dead container hangs until the SSH
        banner times out), and name a transport error that ended the connection."""
        if self.transport is not None and not self.is_connected:
            raise self._lost(None)
        try:
            yield
        except (OSError, EOFError, paramiko.SSHException) as err:
            if self.is_connected:
                raise
            raise self._lost(err) from err

    def close(self) -> None:
        super().close()
        self.transport = None  # closed on purpose: a later command may connect again

    def _lost(self, err: BaseException | None) -> StageError:
        said = f" ({err})" if err is not None and str(err) else ""
        return StageError(f"the connection to {self.node} on 127.0.0.1:{self.port} was lost"
                          f"{said}: its container stopped or was removed, or the Docker "
                          "engine went away")


def connect(state: RunState, node: str, port: int, user: str = "root",
            timeout: float = 10) -> NodeConnection:
    """A Connection to a node on 127.0.0.1:port that accepts only its pinned host key."""
    _, public = state.host_key(node)
    key_type, key_b64 = public.split()[:2]
    conn = NodeConnection(node, HOST, user=user, port=port, connect_timeout=timeout,
                          connect_kwargs={"key_filename": str(state.client_key),
                                          "look_for_keys": False, "allow_agent": False})
    conn.client.set_missing_host_key_policy(paramiko.RejectPolicy())
    pinned = paramiko.PKey.from_type_string(key_type, base64.b64decode(key_b64))
    conn.client.get_host_keys().add(f"[{HOST}]:{port}", key_type, pinned)
    return conn


def wait_for_ssh(state: RunState, node: str, port: int, deadline: float) -> NodeConnection:
    """Connect once sshd answers, retrying until ``deadline`` (time.monotonic())."""
    last: Exception | None = None
    while time.monotonic() < deadline:
        conn = connect(state, node, port, timeout=5)
        try:
            conn.open()
            return conn
        except paramiko.BadHostKeyException as err:
            raise StageError(f"{node}: host key on 127.0.0.1:{port} is not the pinned one") from err
        except (OSError, paramiko.SSHException) as err:
            last = err
            conn.close()
            check_cancel()
            time.sleep(0.5)
    raise StageError(f"{node}: sshd on 127.0.0.1:{port} did not answer in time ({last})")
