"""Programs linked into /usr/bin: each resolves into the package's virtualenv, runs with
an interpreter that exists (a Python one being the virtualenv's own), and answers --help."""

from __future__ import annotations

from tests.infra.facts import HELP_EXIT, Package
from tests.infra.node import Node, interpreter_problem


def test_link_into_venv(node: Node, package: Package, link: str) -> None:
    path = f"/usr/bin/{link}"
    found = node.host.file(path)
    assert found.is_symlink, f"{path} is not a symbolic link"
    target = node.host.check_output("readlink -f %s", path)
    assert target.startswith(f"{package.venv}/bin/"), f"{path} -> {target}, not into {package.venv}"
    assert node.host.run("test -f %s -a -x %s", target, target).rc == 0, (
        f"{path} -> {target}, which is not an executable file")


def test_link_interpreter(node: Node, package: Package, link: str) -> None:
    problem = interpreter_problem(node.host, f"/usr/bin/{link}", package.venv)
    assert problem is None, problem


def test_link_help(node: Node, link: str) -> None:
    result = node.host.run("%s --help", f"/usr/bin/{link}")
    output = result.stdout + result.stderr
    shown = f"/usr/bin/{link} --help (exit {result.rc}):\n{output}"
    assert result.rc in {0, HELP_EXIT.get(link, 0)}, shown
    assert "usage" in output.lower(), shown
    assert "Traceback" not in output, shown
