"""The node session against this machine through a fabric-like connection whose commands
really run (a local shell): quoting, logging, failures, transfers."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import pytest

from st2pkg.errors import StageError
from st2pkg.remote import NodeSession, render


@dataclass(frozen=True)
class Done:
    """The part of fabric's Result the session reads."""

    exited: int
    stdout: str


class LocalConnection:
    """A fabric-like connection to this machine: commands run in a local shell with their
    output written to the given streams, as fabric does with hide=True; files are copied."""

    def run(self, command: str, *, out_stream: IO[str], err_stream: IO[str],
            **_: Any) -> Done:
        proc = subprocess.run(command, shell=True, capture_output=True, text=True,
                              stdin=subprocess.DEVNULL, check=False)
        out_stream.write(proc.stdout)
        err_stream.write(proc.stderr)
        return Done(proc.returncode, proc.stdout)

    def put(self, local: str, remote: str) -> None:
        shutil.copy(local, remote)

    def get(self, remote: str, local: str) -> None:
        shutil.copy(remote, local)


@pytest.fixture
def lines() -> list[str]:
    return []


@pytest.fixture
def node(lines: list[str]) -> NodeSession:
    # LocalConnection.run takes the keyword arguments the session passes by name.
    return NodeSession(LocalConnection(), lines.append)  # type: ignore[arg-type]


HOSTILE = "a b; echo injected $HOME `id` \"q\" 'single' \\ %s"


def test_render_quotes_each_argument_and_expands_sequences() -> None:
    assert render("echo %s", "a b") == "echo 'a b'"
    assert render("rm -f -- %s", ["x y", "z"]) == "rm -f -- 'x y' z"
    assert render("rm -f -- %s", []) == "rm -f -- "
    assert render("printf '%%s' %s", "it's") == "printf '%s' 'it'\"'\"'s'"
    assert render("date +%%s") == "date +%s"


def test_render_refuses_a_template_that_does_not_fit() -> None:
    with pytest.raises(ValueError, match="does not take 2 arguments"):
        render("echo %s", "a", "b")
    with pytest.raises(ValueError, match="write %% for a literal %"):
        render("date +%d %s", "x")


def test_arguments_reach_the_program_unchanged(node: NodeSession) -> None:
    result = node.run("printf '%%s\\n' %s %s", HOSTILE, ["two words", ""])
    assert result.ok
    assert result.stdout.split("\n")[:3] == [HOSTILE, "two words", ""]


def test_command_and_output_are_logged(node: NodeSession, lines: list[str]) -> None:
    node.run("echo out; echo err >&2")
    assert lines[0] == "$ echo out; echo err >&2"
    assert "out" in lines
    assert "err" in lines


def test_failure_names_the_step_and_exit_code(node: NodeSession) -> None:
    with pytest.raises(StageError, match=r"^configure-endpoints failed on the node \(exit 3\)$"):
        node.run("exit 3", what="configure-endpoints")
    with pytest.raises(StageError, match=r"^false failed on the node \(exit 1\)"):
        node.run("false")


def test_pipelines_fail_when_any_part_fails(node: NodeSession) -> None:
    assert node.run("false | cat", check=False).exit == 1


def test_unchecked_failure_returns_the_exit_code(node: NodeSession) -> None:
    result = node.run("echo partial; exit 7", check=False)
    assert (result.exit, result.ok, result.stdout) == (7, False, "partial\n")


def test_environment_values_are_exported_never_logged(node: NodeSession,
                                                      lines: list[str]) -> None:
    secret = "s3cr3t 'quoted' $NOT_EXPANDED"
    result = node.run("printf '%%s' \"$ST2PKG_TEST_SECRET\" | sha256sum",
                      env={"ST2PKG_TEST_SECRET": secret})
    assert result.stdout.split()[0] == hashlib.sha256(secret.encode()).hexdigest()
    assert lines[0].endswith("[env: ST2PKG_TEST_SECRET]")
    assert not [line for line in lines if "s3cr3t" in line]


def test_put_tree_then_get_files(node: NodeSession, tmp_path: Path) -> None:
    src = tmp_path / "src"
    (src / "sub dir").mkdir(parents=True)
    (src / "sub dir" / "a file.txt").write_text("hello\n", encoding="utf-8")
    remote = tmp_path / "remote dir"
    node.put_tree({"tree": src, "single.txt": src / "sub dir" / "a file.txt"}, str(remote))
    assert (remote / "tree" / "sub dir" / "a file.txt").read_text(encoding="utf-8") == "hello\n"
    dest = tmp_path / "dest"
    dest.mkdir()
    got = node.get_files(str(remote), ["single.txt"], dest)
    assert got == [dest / "single.txt"]
    assert got[0].read_text(encoding="utf-8") == "hello\n"


def test_put_text(node: NodeSession, tmp_path: Path) -> None:
    node.put_text("grüße\n", str(tmp_path / "out.txt"))
    assert (tmp_path / "out.txt").read_text(encoding="utf-8") == "grüße\n"


def test_a_failed_unpack_is_a_stage_error(node: NodeSession, tmp_path: Path) -> None:
    bad = tmp_path / "bad.tar"
    bad.write_text("not a tar", encoding="utf-8")
    with pytest.raises(StageError, match="unpacking the upload failed"):
        node.put_tar(bad, str(tmp_path / "out"))
