"""The node session: commands and file transfer on a node through its fabric Connection.

A command is a template plus arguments, as testinfra's ``host.run(command, *args)`` takes
them: each ``%s`` is replaced by one argument, shell-quoted here (a list or tuple argument
becomes its items, each quoted, separated by spaces), and ``%%`` is a literal ``%``. The
template is always %-formatted, with or without arguments, so ``%%`` means the same
everywhere. Nothing outside this module quotes for the shell.
"""

from __future__ import annotations

import io
import shlex
import tarfile
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from .errors import StageError
from .report import Log

Arg = str | Sequence[str]


def render(template: str, *args: Arg) -> str:
    """``template`` with its ``%s`` placeholders replaced by the shell-quoted ``args``."""
    words = tuple(shlex.quote(a) if isinstance(a, str) else " ".join(map(shlex.quote, a))
                  for a in args)
    try:
        return template % words
    except (TypeError, ValueError) as err:
        raise ValueError(f"command template {template!r} does not take {len(args)} "
                         f"arguments ({err}); write %% for a literal %") from err


@dataclass(frozen=True)
class Result:
    """What a command did: its exit code and what it printed on stdout."""

    exit: int
    stdout: str

    @property
    def ok(self) -> bool:
        return self.exit == 0


class Commands(Protocol):
    """Something that runs command templates on a node: the node session, or the testinfra
    suite's adapter over ``host.run``. With ``check``, a non-zero exit raises (naming
    ``what``); without, the caller decides on ``Result.exit``."""

    def run(self, template: str, *args: Arg, check: bool = True,
            what: str | None = None) -> Result: ...


class Remote(Commands, Protocol):
    """What the build and verify stages need of a node: logged commands and file transfer."""

    log: Log

    def run(self, template: str, *args: Arg, check: bool = True, what: str | None = None,
            env: Mapping[str, str] | None = None) -> Result: ...
    def put_file(self, local: Path, remote: str) -> None: ...
    def put_text(self, text: str, remote: str) -> None: ...
    def put_tree(self, files: Mapping[str, Path], remote_dir: str) -> None: ...
    def put_tar(self, tar_path: Path, remote_dir: str) -> None: ...
    def get_files(self, remote_dir: str, names: Sequence[str], dest: Path) -> list[Path]: ...


class Transport(Protocol):
    """The part of a fabric Connection the session uses (invoke's Context has ``run``)."""

    def run(self, command: str, **kwargs: Any) -> Any: ...
    def put(self, local: str, remote: str) -> Any: ...
    def get(self, remote: str, local: str) -> Any: ...


class _LogStream(io.TextIOBase):
    """A text stream fabric writes remote output into, forwarded line by line to a log."""

    def __init__(self, log: Log) -> None:
        self.log = log
        self.pending = ""

    def write(self, text: str) -> int:
        self.pending += text
        *lines, self.pending = self.pending.split("\n")
        for line in lines:
            self.log(line)
        return len(text)

    def flush(self) -> None:
        if self.pending:
            self.log(self.pending)
            self.pending = ""


class NodeSession:
    """Commands and transfers on one node, logged into one step's log."""

    def __init__(self, conn: Transport, log: Log) -> None:
        self.conn = conn
        self.log = log

    def run(self, template: str, *args: Arg, check: bool = True, what: str | None = None,
            env: Mapping[str, str] | None = None) -> Result:
        """Run the rendered command (bash -o pipefail) with its output streamed into the log.
        ``env`` is exported before it; its names are logged, never its values. With
        ``check``, a non-zero exit raises StageError naming ``what`` and the exit code."""
        command = render(template, *args)
        names = f"  [env: {', '.join(env)}]" if env else ""
        self.log(f"$ {command}{names}")
        exports = "".join(f"export {k}={shlex.quote(v)}; " for k, v in (env or {}).items())
        stream = _LogStream(self.log)
        done = self.conn.run(f"bash -o pipefail -c {shlex.quote(exports + command)}",
                             warn=True, hide=True, out_stream=stream, err_stream=stream,
                             in_stream=False)
        stream.flush()
        result = Result(int(done.exited), str(done.stdout))
        if check and not result.ok:
            step = what or (command.split() or ["the command"])[0]
            raise StageError(f"{step} failed on the node (exit {result.exit})")
        return result

    def put_file(self, local: Path, remote: str) -> None:
        """Copy one local file to ``remote``."""
        self.conn.put(str(local), remote)

    def put_text(self, text: str, remote: str) -> None:
        """Write ``text`` (UTF-8) into the file ``remote``."""
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "text"
            path.write_text(text, encoding="utf-8")
            self.put_file(path, remote)

    def put_tree(self, files: Mapping[str, Path], remote_dir: str) -> None:
        """Copy local files and directories (remote names -> local paths) into
        ``remote_dir``."""
        with tempfile.NamedTemporaryFile(suffix=".tar") as handle:
            with tarfile.open(fileobj=handle, mode="w") as tar:
                for arcname, path in files.items():
                    tar.add(path, arcname=arcname)
            handle.flush()
            self.put_tar(Path(handle.name), remote_dir)

    def put_tar(self, tar_path: Path, remote_dir: str) -> None:
        """Upload a tar file and unpack it into ``remote_dir``."""
        remote_tar = f"/tmp/st2pkg-upload-{tar_path.stem}.tar"
        self.log(f"uploading {tar_path.stat().st_size} bytes into {remote_dir}")
        self.put_file(tar_path, remote_tar)
        self.run("mkdir -p %s && tar -xf %s -C %s --no-same-owner && rm -f %s", remote_dir,
                 remote_tar, remote_dir, remote_tar, what="unpacking the upload")

    def get_files(self, remote_dir: str, names: Sequence[str], dest: Path) -> list[Path]:
        """Download ``names`` from ``remote_dir`` into ``dest`` (which must exist)."""
        paths = []
        for name in names:
            local = dest / name
            self.conn.get(f"{remote_dir.rstrip('/')}/{name}", str(local))
            self.log(f"downloaded {name} ({local.stat().st_size} bytes)")
            paths.append(local)
        return paths


def interactive(conn: Any, command: str | None, pty: bool) -> int:
    """A user's own shell on the node (``command`` None), or their command line run as they
    typed it (it is theirs to quote); returns its exit code."""
    if command is None:
        conn.shell()
        return 0
    return int(conn.run(command, warn=True, pty=pty).exited)
