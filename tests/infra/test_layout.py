"""Directories and files of the package with their owners and modes, as packaging/<pkg>/
dirs, tmpfiles and logrotate (and the maintainer scripts) say."""

from __future__ import annotations

from tests.infra.facts import FileFact, OwnedDir, RuntimeDir
from tests.infra.node import Node


def _mode(value: int) -> str:
    return f"{value:04o}"


def test_owned_dir(node: Node, owned_dir: OwnedDir) -> None:
    found = node.host.file(owned_dir.path)
    assert found.is_directory, f"{owned_dir.path} is not a directory"
    assert (found.user, found.group, _mode(found.mode)) == (
        owned_dir.owner, owned_dir.group, _mode(owned_dir.mode))


def test_runtime_dir(node: Node, runtime_dir: RuntimeDir) -> None:
    found = node.host.file(runtime_dir.path)
    assert found.is_directory, f"{runtime_dir.path} is not a directory (tmpfiles.d entry)"
    assert (found.user, found.group, _mode(found.mode)) == (
        runtime_dir.owner, runtime_dir.group, _mode(runtime_dir.mode))
    # /var/run is /run: software that writes to /var/run/st2 must land in the same place.
    if runtime_dir.path.startswith("/run/"):
        alias = "/var" + runtime_dir.path
        assert node.host.check_output("readlink -f %s", alias) == runtime_dir.path


def test_file(node: Node, file_fact: FileFact) -> None:
    found = node.host.file(file_fact.path)
    assert found.is_file, f"{file_fact.path} is not a file"
    if file_fact.owner is not None:
        assert found.user == file_fact.owner
    if file_fact.group is not None:
        assert found.group == file_fact.group
    if file_fact.mode is not None:
        assert _mode(found.mode) == _mode(file_fact.mode)
    if file_fact.text is not None:
        assert found.content_string == file_fact.text, f"{file_fact.path} differs from its recipe"
    if file_fact.readable_by is not None:
        check = node.host.run("runuser -u %s -- test -r %s", file_fact.readable_by,
                              file_fact.path)
        assert check.rc == 0, f"{file_fact.readable_by} cannot read {file_fact.path}"


def test_writable(node: Node, writable: tuple[str, str]) -> None:
    user, path = writable
    check = node.host.run("runuser -u %s -- test -w %s", user, path)
    assert check.rc == 0, f"{user} cannot write to {path}: {check.stderr.strip()}"


def test_logrotate_accepts_config(node: Node, logrotate_conf: str) -> None:
    result = node.host.run("logrotate --debug %s", logrotate_conf)
    assert result.rc == 0, f"logrotate rejects {logrotate_conf}:\n{result.stderr}"
