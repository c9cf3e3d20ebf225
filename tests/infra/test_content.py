"""What the package takes from the st2 source tree: the contrib packs and examples (owned by
their group, which may change them), the nginx example, bash completion, and every service's
logging and syslog configuration in /etc/st2, logging into directories the service can write;
and that everything under /etc is configuration the package manager keeps."""

from __future__ import annotations

import configparser
import re

from tests.infra.facts import Package, SourceFile, Unit
from tests.infra.node import Node

PACKS_DIR = "/opt/stackstorm/packs/"
LOG_DIR = "/var/log/st2"
# A quoted path in a handler's args=(...) of a logging configuration file.
_ARGS_PATH = re.compile(r"""^args\s*=\s*\(\s*['"]([^'"]+)['"]""", re.MULTILINE)


def test_source_file(node: Node, source_file: SourceFile) -> None:
    found = node.host.file(source_file.path)
    assert found.exists, f"{source_file.path} (from {source_file.source}) is missing"
    if source_file.path.startswith(PACKS_DIR):
        assert node.host.file(f"{source_file.path}/pack.yaml").is_file, (
            f"{source_file.path} has no pack.yaml")


def test_shared_tree_owned_by_its_group(node: Node, shared_tree: SourceFile) -> None:
    wrong = node.host.run("find %s \\( ! -user root -o ! -group %s -o ! -perm -g+w \\) -print",
                          shared_tree.path, shared_tree.group)
    assert wrong.rc == 0, wrong.stderr
    assert not wrong.stdout.split(), (f"not root:{shared_tree.group} and group-writable: "
                                      f"{wrong.stdout.split()[:10]}")
    plain = node.host.run("find %s -type d ! -perm -g+s -print", shared_tree.path)
    assert not plain.stdout.split(), f"directories without setgid: {plain.stdout.split()[:10]}"


def test_bash_completion_parses(node: Node, completion: str) -> None:
    result = node.host.run("bash -n %s", completion)
    assert result.rc == 0, f"bash -n {completion}: {result.stderr}"


def test_logging_files_of_unit(node: Node, unit: Unit) -> None:
    for kind in ("logging", "syslog"):
        path = f"/etc/st2/{kind}.{unit.service}.conf"
        assert node.host.file(path).is_file, f"{unit.name} has no {path}"


def _log_files(node: Node) -> dict[str, list[str]]:
    """The log files each /etc/st2/logging*.conf and syslog*.conf names."""
    listed = node.host.run("ls /etc/st2").stdout.split()
    names = [n for n in listed if re.fullmatch(r"(logging|syslog)\..+\.conf", n)]
    return {f"/etc/st2/{n}": _ARGS_PATH.findall(node.host.file(f"/etc/st2/{n}").content_string)
            for n in names}


def test_log_files_under_var_log_st2(node: Node, server: Package) -> None:
    files = _log_files(node)
    assert files, "no /etc/st2/logging.*.conf"
    outside = {conf: paths for conf, paths in files.items()
               if any(not p.startswith(f"{LOG_DIR}/") for p in paths)}
    assert not outside, f"log files outside {LOG_DIR}: {outside}"


def test_log_dirs_writable_by_unit_user(node: Node, unit: Unit) -> None:
    user = unit.worker_user or unit.user
    paths = [p for name, found in _log_files(node).items()
             if name.startswith((f"/etc/st2/logging.{unit.service}.",
                                 f"/etc/st2/syslog.{unit.service}.")) for p in found]
    for directory in sorted({p.rsplit("/", 1)[0] for p in paths}):
        check = node.host.run("runuser -u %s -- test -d %s -a -w %s", user, directory, directory)
        assert check.rc == 0, f"{unit.name} ({user}) cannot write its logs to {directory}"


def test_st2_conf_names_existing_logging_files(node: Node, server: Package) -> None:
    conf = configparser.ConfigParser(interpolation=None, strict=False)
    conf.read_string(node.host.file("/etc/st2/st2.conf").content_string)
    named = {s: conf.get(s, "logging") for s in conf.sections() if conf.has_option(s, "logging")}
    missing = {s: p for s, p in named.items() if not node.host.file(p).is_file}
    assert not missing, f"st2.conf names logging files that do not exist: {missing}"


def test_etc_files_are_configuration(node: Node, package: Package) -> None:
    ours = node.ops.etc_files(node.host, package.name)
    # (A package without files in /etc has no list of them to ask for.)
    kept = node.ops.config_files(node.host, package.name) if ours else set()
    assert ours <= kept, f"not configuration files of {package.name}: {sorted(ours - kept)}"
