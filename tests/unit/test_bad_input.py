"""The input rule, case by case: every bad config file, environment value, flag or source gets
one `error:` line that names where it came from, exit code 2, and nothing written to the
cache, output or state directories. Each case runs the task's own function, as tasks.py
calls it, in this process (no Docker: bad input is refused before any engine is asked)."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from tests.fixtures.st2src import make_st2_repo

from st2pkg import app
from st2pkg.cli import program
from st2pkg.errors import St2PkgError
from st2pkg.shell import shell

Call = Callable[[Path], object]


def _config(tmp: Path, name: str = "bad.yml") -> str:
    return str(tmp / name)


def show(tmp: Path) -> None:
    app.show_config(None)


def show_file(tmp: Path) -> None:
    app.show_config(_config(tmp))


def build(tmp: Path, **kw: object) -> None:
    args: dict[str, object] = {"distros": None, "packages": "st2client", "jobs": None,
                               "output": None, "force": False, "rpm_check": None}
    args.update(kw)
    app.build(None, **args)  # type: ignore[arg-type]


def build_st2(tmp: Path) -> None:
    build(tmp, packages="st2")


@dataclass(frozen=True)
class Case:
    """A bad input: the files it writes, its environment, the call and the expected text."""

    call: Call
    expect: str
    env: dict[str, str] = field(default_factory=dict)
    config: bytes | None = None
    # A source repository made for the case; its value goes in ST2_GITURL.
    repo: str | None = None
    # Paths made before the call that may stay (a valid repository's mirror, say).
    allowed: tuple[str, ...] = ()


def _yaml(text: str) -> bytes:
    return text.encode()


HUGE = "x" * 20000
CASES: dict[str, Case] = {
    # config files
    "config not UTF-8": Case(show_file, "bad.yml: config file is not UTF-8 text",
                             config=b"\xff\xfe distros: [bookworm]\n"),
    "config missing": Case(lambda t: app.show_config(_config(t, "none.yml")),
                           "none.yml: config file not found"),
    "config is a directory": Case(lambda t: app.show_config(str(t)),
                                  "config file is a directory"),
    "config not YAML": Case(show_file, "bad.yml: not valid YAML", config=_yaml("a: [b\n")),
    "config a list": Case(show_file, "must be a mapping of option names",
                          config=_yaml("- bookworm\n")),
    "config a scalar": Case(show_file, "must be a mapping of option names",
                            config=_yaml("bookworm\n")),
    "config unknown key": Case(show_file, "unknown option 'distro' (did you mean 'distros'?)",
                               config=_yaml("distro: [bookworm]\n")),
    "config unknown distro": Case(show_file, "unknown distro 'jessie'",
                                  config=_yaml("distros: [jessie]\n")),
    "config distros a number": Case(show_file, "option 'distros' must be a list",
                                    config=_yaml("distros: 5\n")),
    "config packages a mapping": Case(show_file, "option 'packages' must be a list",
                                      config=_yaml("packages: {a: b}\n")),
    "config packages empty": Case(show_file, "option 'packages' must name at least one",
                                  config=_yaml("packages: []\n")),
    "config unknown package": Case(show_file, "no recipe 'st2web'",
                                   config=_yaml("packages: [st2web]\n")),
    "config jobs negative": Case(show_file, "option 'jobs' must be 0 or more",
                                 config=_yaml("jobs: -1\n")),
    "config jobs a word": Case(show_file, "option 'jobs' must be a whole number",
                               config=_yaml("jobs: two\n")),
    "config jobs a bool": Case(show_file, "option 'jobs' must be a whole number",
                               config=_yaml("jobs: true\n")),
    "config rpm_check a word": Case(show_file, "option 'rpm_check' must be true or false",
                                    config=_yaml("rpm_check: perhaps\n")),
    "config release negative": Case(show_file, "option 'release' must be a release",
                                    config=_yaml("release: '-1'\n")),
    "config release a list": Case(show_file, "option 'release' must be a string",
                                  config=_yaml("release: [1]\n")),
    "config version with a space": Case(show_file, "option 'version' must be a package version",
                                        config=_yaml("version: '3.9 beta'\n")),
    "config base_source": Case(show_file, "option 'base_source' is 'cloud'; allowed",
                               config=_yaml("base_source: cloud\n")),
    "config compose": Case(show_file, "option 'compose' is 'v3'; allowed",
                           config=_yaml("compose: v3\n")),
    "config test_init": Case(show_file, "option 'test_init' is 'sysv'; allowed",
                             config=_yaml("test_init: sysv\n")),
    "config debug_level": Case(show_file, "option 'debug_level' must be 0 or more and at most 2",
                               config=_yaml("debug_level: 5\n")),
    "config git_mirrors": Case(show_file, "option 'git_mirrors' item 'nope' is not PREFIX=MIRROR",
                               config=_yaml("git_mirrors: [nope]\n")),
    "config st2_giturl ftp": Case(show_file, "option 'st2_giturl' is 'ftp://h.invalid/st2'",
                                  config=_yaml("st2_giturl: ftp://h.invalid/st2\n")),
    "config st2_giturl empty": Case(show_file, "option 'st2_giturl' must not be empty",
                                    config=_yaml("st2_giturl: ''\n")),
    "config huge value": Case(show_file, "option 'version' is 20002 characters long",
                              config=_yaml(f"version: '1 {HUGE}'\n")),
    "config huge anchors": Case(show_file, "option 'packages' must be a list",
                                config=_yaml(f"pack_indexes: &a [{', '.join(['i' * 99] * 99)}]\n"
                                             "packages: [*a, *a, *a, *a, *a, *a, *a, *a]\n")),
    # environment
    "env distros unknown": Case(show, "environment ST2PKG_DISTROS: unknown distro 'jessie'",
                                env={"ST2PKG_DISTROS": "jessie"}),
    "env distros typo": Case(show, "(did you mean 'bookworm'?)",
                             env={"ST2PKG_DISTROS": "bookwrm"}),
    "env distros empty": Case(show, "option 'distros' must name at least one item",
                              env={"ST2PKG_DISTROS": " , "}),
    "env packages unknown": Case(show, "no recipe 'nope'", env={"ST2_PACKAGES": "nope"}),
    "env packages spaced, one unknown": Case(show, "no recipe 'nope'",
                                             env={"ST2_PACKAGES": "st2 nope"}),
    "env packages typo": Case(show, "(did you mean 'st2client'?)",
                              env={"ST2_PACKAGES": "st2clint"}),
    "env giturl ftp": Case(show, "environment ST2_GITURL: option 'st2_giturl' is 'ftp://",
                           env={"ST2_GITURL": "ftp://h.invalid/st2"}),
    "env giturl no path": Case(show, "neither a git URL", env={"ST2_GITURL": "no-such-dir"}),
    "env giturl credentials hidden": Case(show, "'ftp://***@h.invalid/st2'",
                                          env={"ST2_GITURL": "ftp://u:s3cret@h.invalid/st2"}),
    "env version shell": Case(show, "environment ST2PKG_VERSION: option 'version' must be",
                              env={"ST2PKG_VERSION": "1;rm -rf /"}),
    "env version v-prefix": Case(show, "option 'version' must be a package version",
                                 env={"ST2PKG_VERSION": "v3.9.0"}),
    "env version quote": Case(show, "option 'version' must be", env={"ST2PKG_VERSION": "3'9"}),
    "env release negative": Case(show, "environment ST2PKG_RELEASE: option 'release'",
                                 env={"ST2PKG_RELEASE": "-1"}),
    "env release a word": Case(show, "option 'release' must be a release",
                               env={"ST2PKG_RELEASE": "abc"}),
    "env release empty": Case(show, "option 'release' must not be empty",
                              env={"ST2PKG_RELEASE": ""}),
    "env release space": Case(show, "option 'release' must be a release",
                              env={"ST2PKG_RELEASE": "1 2"}),
    "env debug high": Case(show, "environment DEBUG_LEVEL: option 'debug_level' must be 0",
                           env={"DEBUG_LEVEL": "3"}),
    "env debug a word": Case(show, "option 'debug_level' must be a whole number",
                             env={"DEBUG_LEVEL": "loud"}),
    "env jobs negative": Case(show, "option 'jobs' must be 0 or more", env={"ST2PKG_JOBS": "-2"}),
    "env jobs a word": Case(show, "option 'jobs' must be a whole number",
                            env={"ST2PKG_JOBS": "many"}),
    "env rpm_check": Case(show, "option 'rpm_check' must be true or false",
                          env={"ST2PKG_RPM_CHECK": "sometimes"}),
    "env base_source": Case(show, "option 'base_source' is 'pull'",
                            env={"ST2PKG_BASE_SOURCE": "pull"}),
    "env compose": Case(show, "option 'compose' is 'podman'", env={"ST2PKG_COMPOSE": "podman"}),
    "env test_init": Case(show, "option 'test_init' is 'openrc'",
                          env={"ST2PKG_TEST_INIT": "openrc"}),
    "env output a file": Case(show, "environment ST2PKG_OUTPUT: option 'output' names",
                              env={"ST2PKG_OUTPUT": "{tmp}/afile"}),
    "env state a file": Case(show, "option 'state_dir' names", env={"ST2PKG_STATE_DIR":
                                                                     "{tmp}/afile"}),
    "env cache a file": Case(show, "option 'cache_dir' names", env={"ST2PKG_CACHE_DIR":
                                                                     "{tmp}/afile"}),
    "env mirrors no equals": Case(show, "option 'git_mirrors' item 'https://h.invalid/'",
                                  env={"ST2PKG_GIT_MIRRORS": "https://h.invalid/"}),
    "env mirrors no prefix": Case(show, "is not PREFIX=MIRROR",
                                  env={"ST2PKG_GIT_MIRRORS": "=file:///srv/git/"}),
    "env config missing": Case(show, "config file not found",
                               env={"ST2PKG_CONFIG": "{tmp}/none.yml"}),
    "env config a directory": Case(show, "config file is a directory",
                                   env={"ST2PKG_CONFIG": "{tmp}"}),
    # command line
    "cli build distro": Case(lambda t: build(t, distros="sid"), "--distro: unknown distro 'sid'"),
    "cli build package": Case(lambda t: build(t, packages="st2cleint"),
                              "no recipe 'st2cleint' in"),
    "cli build jobs": Case(lambda t: build(t, jobs=-3), "command line: option 'jobs' must be"),
    "cli build output a file": Case(lambda t: build(t, output=str(t / "afile")),
                                    "command line: option 'output' names"),
    "cli config distro": Case(lambda t: app.show_config(None, distros="jessie"),
                              "--distro: unknown distro 'jessie'"),
    "cli test package": Case(lambda t: app.test(None, None, "nope", False, False),
                             "no recipe 'nope'"),
    "cli up distro": Case(lambda t: app.up(None, "bookworm,nope"), "unknown distro 'nope'"),
    "cli shell two distros": Case(lambda t: shell(None, "bookworm,bullseye", "test", None),
                                  "--distro: shell takes exactly one distro"),
    "cli st2image all": Case(lambda t: app.st2image(None, "all"),
                             "--distro: st2image takes exactly one distro"),
    "cli pipeline package": Case(
        lambda t: app.pipeline(None, None, "st2,nope", None, None, False, None, False, False),
        "no recipe 'nope'"),
    # sources
    "source not a repository": Case(build_st2, "does not appear to be a git repository",
                                    env={"ST2_GITURL": "{tmp}"}),
    "source file URL missing": Case(build_st2, "ST2_GITURL: ",
                                    env={"ST2_GITURL": "file:///nonexistent/st2.git"}),
    "source unreachable, credentials hidden": Case(
        build_st2, "ST2_GITURL: ", env={"ST2_GITURL": "https://u:s3cret@127.0.0.1:9/st2.git"}),
    "source bad revision": Case(build_st2, "ST2_GITREV 'no-such-ref' is not a branch",
                                env={"ST2_GITREV": "no-such-ref"}, repo="3.9dev",
                                allowed=("cache/sources",)),
    "source version not PEP 440": Case(build_st2, "__version__ 'next' is not a PEP 440 version",
                                       repo="next", allowed=("cache/sources",)),
    "source not st2": Case(build_st2, "not an st2 source", env={"ST2_GITURL": "{tmp}/notst2"}),
    # found by a black-box corpus
    "config nested too deeply": Case(show_file, "nested too deeply to read",
                                     config=_yaml("distros: " + "[" * 3_000 + "]" * 3_000)),
    "config billion laughs": Case(show_file, "holds more than 100000 values", config=_yaml(
        "a: &a [x,x,x,x,x,x,x,x,x,x]\n" + "".join(
            f"{n}: &{n} [{', '.join(['*' + p] * 10)}]\n"
            for p, n in zip("abcde", "bcdef", strict=True))
        + "packages: [*f, *f, *f, *f, *f, *f, *f, *f, *f, *f]\n")),
    "config YAML error is one line": Case(show_file, "not valid YAML: expected ',' or ']'",
                                          config=_yaml("distros: [bookworm\n")),
    "env gitrev shell characters": Case(show, "option 'st2_gitrev' must be a branch, tag",
                                        env={"ST2_GITREV": "master; touch pwned"}),
    "env gitrev option": Case(show, "option 'st2_gitrev' must be a branch, tag",
                              env={"ST2_GITREV": "--upload-pack=touch pwned"}),
    "env cgroup mount": Case(show, "option 'cgroup_mount' must be HOST_PATH:CONTAINER_PATH",
                             env={"ST2PKG_CGROUP_MOUNT": "nocolon"}),
    "env debian mirror": Case(show, "option 'debian_mirror' must be an http(s)://",
                              env={"ST2PKG_DEBIAN_MIRROR": "http://u:s3cret@[::1/debian x"}),
    "env mongodb image": Case(show, "option 'mongodb_image' must be an image reference",
                              env={"ST2PKG_MONGODB_IMAGE": "Bad Image::x"}),
    "env release very long": Case(show, "option 'release' is 100002 characters long",
                                  env={"ST2PKG_RELEASE": "1;" + "x" * 100_000}),
    "env recipes dir empty": Case(show, "option 'recipes_dir' names",
                                  env={"ST2PKG_RECIPES_DIR": "{tmp}/cache"}),
    "env config is a URL": Case(show, "config file not found",
                                env={"ST2PKG_CONFIG": "https://u:s3cret@example.com/st2pkg.yml"}),
    "cli config empty": Case(lambda t: app.show_config(""), "--config: empty"),
    "env giturl with a space": Case(show, "option 'st2_giturl' is not a usable URL (it holds",
                                    env={"ST2_GITURL": "https://u:s3cret@exa mple.com/st2"}),
    "env giturl port out of range": Case(show, "option 'st2_giturl' is not a usable URL",
                                         env={"ST2_GITURL": "https://u:s3cret@h.example:99999/x"}),
    "env mirror rule to ftp": Case(show, "the mirror must be a git URL",
                                   env={"ST2PKG_GIT_MIRRORS": "https://g.example/=ftp://u:s3cret@h/"}),
    "env debian mirror broken IPv6": Case(show, "option 'debian_mirror' is not a usable URL",
                                          env={"ST2PKG_DEBIAN_MIRROR": "http://u:s3cret@[::1/d"}),
    "env busybox missing": Case(show, "option 'busybox' names",
                                env={"ST2PKG_BUSYBOX": "{tmp}/nowhere"}),
    "env busybox a directory": Case(show, "option 'busybox' names",
                                    env={"ST2PKG_BUSYBOX": "{tmp}/afile/.."}),
    "config key twice": Case(show_file, "key 'jobs' is given twice",
                             config=_yaml("jobs: 2\njobs: 3\n")),
    "cli shell unknown node": Case(lambda t: shell(None, "bookworm", "db", None),
                                   "--node: 'db' is not a node of a run"),
    "cli test nothing built": Case(lambda t: app.test(None, "bookworm", None, False, False),
                                   "no artifacts in"),
    "cli st2image nothing built": Case(lambda t: app.st2image(None, "bookworm"),
                                       "no artifacts in"),
}


@pytest.fixture
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A working directory with the run's directories pointed into it (and not made)."""
    for name in [n for n in os.environ if n.startswith(("ST2PKG_", "ST2_"))]:
        monkeypatch.delenv(name)
    monkeypatch.delenv("DEBUG_LEVEL", raising=False)
    monkeypatch.setenv("ST2PKG_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("ST2PKG_OUTPUT", str(tmp_path / "out"))
    monkeypatch.setenv("ST2PKG_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.chdir(tmp_path)
    (tmp_path / "afile").write_text("not a directory\n")
    return tmp_path


def _plain_repo(path: Path) -> None:
    """A git repository that is not an st2 source."""
    path.mkdir()
    (path / "README").write_text("not st2\n")
    for argv in (["init", "-q"], ["add", "README"],
                 ["-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "x"]):
        subprocess.run(["git", *argv], cwd=path, check=True)


def _written(tmp: Path, allowed: tuple[str, ...]) -> list[str]:
    found = []
    for top in ("cache", "out", "state"):
        for path in (tmp / top).rglob("*") if (tmp / top).exists() else []:
            rel = str(path.relative_to(tmp))
            if path.is_file() and not rel.startswith(allowed):
                found.append(rel)
    return found


def test_the_corpus_is_large() -> None:
    assert len(CASES) >= 60


@pytest.mark.parametrize("name", list(CASES))
def test_bad_input(name: str, isolated: Path, monkeypatch: pytest.MonkeyPatch,
                   capsys: pytest.CaptureFixture[str]) -> None:
    case = CASES[name]
    if case.config is not None:
        (isolated / "bad.yml").write_bytes(case.config)
    if "{tmp}/notst2" in case.env.values():
        _plain_repo(isolated / "notst2")
    if case.repo is not None:
        repo = make_st2_repo(isolated / "src", version=case.repo)
        monkeypatch.setenv("ST2_GITURL", str(repo))
    for key, value in case.env.items():
        monkeypatch.setenv(key, value.replace("{tmp}", str(isolated)))
    with pytest.raises(St2PkgError) as info:
        case.call(isolated)
    message = str(info.value)
    assert info.value.exit_code == 2, message
    assert case.expect in message.splitlines()[0], message
    assert len(message.splitlines()[0]) < 400, "an error line is bounded"
    assert "s3cret" not in message + capsys.readouterr().err
    assert _written(isolated, case.allowed) == []


# What the st2pkg command's own parser refuses (invoke's parse errors, in st2pkg's shape).
ARGV_CASES = {
    "unknown flag": (["build", "--bogus"], "No idea what '--bogus' is!"),
    "unknown task": (["bulid"], "No idea what 'bulid' is!"),
    "unknown subtask": (["packs.nope"], "No idea what 'packs.nope' is!"),
    "unknown core flag": (["--nope"], "No idea what '--nope' is!"),
    "flag without its value": (["build", "--jobs"], "--jobs needs a value"),
    "missing positional": (["shell"], "'shell' did not receive required positional"),
    "bad number": (["build", "--jobs=x"], "command line: option 'jobs' must be a whole number"),
}


@pytest.mark.parametrize("name", list(ARGV_CASES))
def test_bad_command_line(name: str, isolated: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv, expect = ARGV_CASES[name]
    with pytest.raises(SystemExit) as info:
        program.run(["st2pkg", *argv])
    err = capsys.readouterr().err
    assert info.value.code == 2, err
    first = err.splitlines()[0]
    assert first.startswith("error: "), err
    assert expect in first, err
    assert _written(isolated, ()) == []
