"""The package is installed and its virtualenv is whole: a working interpreter of its own,
no trace of the build node, every script's #! line resolvable."""

from __future__ import annotations

from tests.infra.facts import Package
from tests.infra.node import Node, interpreter_problem

# Paths of the build node (build root, build-package's work dir, build-venv's scratch dir).
BUILD_PATHS = ("/build/", "/tmp/st2pkg-", "/tmp/tmp.")
# Venv files that would carry a build path into the installed package: scripts of bin/,
# path configuration files, and PEP 610 records of URL installs.
RECORDED_PATHS = ("*.pth", "direct_url.json", "pyvenv.cfg")


def test_installed(node: Node, package: Package) -> None:
    pkg = node.host.package(package.name)
    assert pkg.is_installed, f"{package.name} is not installed ({node.ops.format})"


def test_depends_installed(node: Node, package: Package) -> None:
    missing = node.ops.missing_depends(node.host, package.name)
    assert not missing, f"{package.name}'s dependencies not installed: {missing}"


def test_owns_its_files(node: Node, package: Package) -> None:
    owners = node.ops.owners(node.host, list(package.installed_paths))
    wrong = {path: sorted(names) or "(no package)" for path, names in owners.items()
             if names != {package.name}}
    assert not wrong, f"not owned by the {package.name} package: {wrong}"


def test_venv_interpreter(node: Node, package: Package) -> None:
    python = f"{package.venv}/bin/python"
    real = node.host.check_output("readlink -f %s", python)
    assert real.startswith(f"{package.venv}/bin/"), f"{python} resolves to {real}, outside the venv"
    problem = interpreter_problem(node.host, f"{package.venv}/bin/pip", package.venv)
    assert problem is None, problem
    prefix = node.host.run("%s -c %s", python, "import sys; print(sys.prefix)")
    assert prefix.rc == 0, f"{python} does not run: {prefix.stderr}"
    assert prefix.stdout.strip() == package.venv


def test_no_build_marker(node: Node, package: Package) -> None:
    marker = node.host.file(f"{package.venv}.st2pkg-build")
    assert not marker.exists, f"{marker.path}: build-venv's marker was installed"


def test_venv_has_no_build_paths(node: Node, package: Package) -> None:
    patterns = "-e %s " * len(BUILD_PATHS)
    includes = "--include=%s " * len(RECORDED_PATHS)
    recorded = node.host.run(f"grep -rlIF {patterns}{includes}%s", *BUILD_PATHS,
                             *RECORDED_PATHS, package.venv)
    assert recorded.rc in (0, 1), recorded.stderr
    scripts = node.host.run(f"find %s -maxdepth 1 -type f -exec grep -lIF {patterns}{{}} +",
                            f"{package.venv}/bin", *BUILD_PATHS)
    leftovers = (recorded.stdout + scripts.stdout).split()
    assert not leftovers, f"build paths {BUILD_PATHS} left in: {leftovers}"


def test_venv_scripts_have_working_interpreters(node: Node, package: Package) -> None:
    listing = node.host.check_output(
        "for f in %s/bin/*; do if [ -f \"$f\" ] && [ ! -L \"$f\" ] && "
        "[ \"$(head -c 2 \"$f\")\" = '#!' ]; then printf '%%s\\t' \"$f\"; head -n 1 \"$f\"; "
        "fi; done", package.venv)
    by_line: dict[str, str] = {}
    for row in listing.splitlines():
        script, _, first = row.partition("\t")
        by_line.setdefault(first, script)
    assert by_line, f"{package.venv}/bin has no scripts"
    # One script per distinct #! line: they share the interpreter and its verdict.
    problems = [p for p in (interpreter_problem(node.host, script, package.venv)
                            for script in by_line.values()) if p]
    assert not problems, "\n".join(problems)
