"""`st2pkg shell`: a shell, or one command, on a running node of the newest run."""

from __future__ import annotations

import os
import sys

from . import remote, services
from .context import RunContext, load
from .errors import ConfigError, suggest
from .nodes import NODE_ROLES
from .ssh import RunState, connect


def _find_container(context: RunContext, distro: str, node: str) -> tuple[str, str]:
    """The newest running ``node`` container of ``distro`` among this state dir's runs."""
    runs_dir = context.opts.state_dir / "runs"
    ours = {p.name for p in runs_dir.iterdir()} if runs_dir.is_dir() else set()
    found = context.docker.containers({"st2pkg.distro": distro, "st2pkg.role": node})
    running = [c for c in found if c.status == "running" and c.labels.get("st2pkg.run") in ours]
    if not running:
        raise ConfigError(f"no running {node} node for {distro}; start one with "
                          f"`st2pkg up --distro={distro}` (or keep nodes of a pipeline run)")
    newest = max(running, key=lambda c: str(c.attrs["Created"]))
    return str(newest.name), str(newest.labels["st2pkg.run"])


def shell(config: str | None, distro: str, node: str, cmd: str | None) -> int:
    """Open a shell on (or run ``cmd`` on) a node of the newest run; returns the exit code.
    Build and test nodes are reached over SSH (pinned host key), service containers with
    `docker exec`."""
    context = load(config, distros=distro)
    if len(context.opts.distros) != 1:
        raise ConfigError("--distro: shell takes exactly one distro")
    nodes = (*NODE_ROLES, *services.names())
    if node not in nodes:
        raise ConfigError(f"--node: {node!r} is not a node of a run{suggest(node, nodes)}; "
                          f"choose one of {', '.join(nodes)}")
    name, run_id = _find_container(context, context.opts.distros[0], node)
    if node in NODE_ROLES:
        state = RunState.load(context.opts.state_dir, run_id)
        port = context.docker.published_port(name)
        with connect(state, f"{context.opts.distros[0]}-{node}", port) as conn:
            return remote.interactive(conn, cmd, pty=sys.stdout.isatty())
    if cmd is None:
        os.execvp("docker", ["docker", "exec", "-it", name, "sh", "-c",
                             "command -v bash >/dev/null && exec bash || exec sh"])
    code, output = context.docker.exec(name, ["sh", "-c", cmd])
    sys.stdout.write(output)
    return code
