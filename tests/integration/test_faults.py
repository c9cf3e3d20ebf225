"""Faults on real containers, each as a release engineer would meet it: a node killed mid-step,
an output disk that is full or read-only, two checkouts sharing one cache at once, and the
Docker engine going away mid-run. Each test checks the exit code, the one error line that
names the distro, step and log, that nothing of the run is left behind once `st2pkg clean`
has run, and that a rerun works. Run with `-s` to see how long each fault took to report."""

from __future__ import annotations

import contextlib
import json
import os
import re
import selectors
import shutil
import socket
import subprocess
import sys
import threading
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

import docker
import pytest
from tests.support import ROOT, Cli, run_containers, run_networks, verify_sums

from st2pkg.artifacts import sha256_of

pytestmark = pytest.mark.docker

REPORT_WITHIN = 30.0
# The command users run, as tests.support.Cli runs it.
ST2PKG = [sys.executable, "-m", "st2pkg"]
# Names a writer gives its files until they are whole; none may outlive a run.
TEMP_NAMES = re.compile(r"\.partial$|^\.incoming-|^\.publish-|^\.tmp-")


class Watched:
    """A CLI run in the background whose output lines are timestamped as they arrive."""

    def __init__(self, args: list[str], env: dict[str, str], cwd: Path = ROOT) -> None:
        self.proc = subprocess.Popen([*ST2PKG, *args], cwd=cwd, env=env,
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     text=True)
        self.lines: list[tuple[float, str]] = []
        self._seen = threading.Condition()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        with self.proc.stdout:
            for line in self.proc.stdout:
                with self._seen:
                    self.lines.append((time.monotonic(), line.rstrip("\n")))
                    self._seen.notify_all()
        with self._seen:
            self._seen.notify_all()

    def wait_line(self, pattern: str, timeout: float) -> float:
        """When the first line matching ``pattern`` arrived (waits up to ``timeout``)."""
        wanted = re.compile(pattern)
        deadline = time.monotonic() + timeout
        with self._seen:
            while True:
                for at, line in self.lines:
                    if wanted.search(line):
                        return at
                left = deadline - time.monotonic()
                if left <= 0 or (self.proc.poll() is not None and not self._reader.is_alive()):
                    raise AssertionError(f"no line matching {pattern!r}; output:\n{self.text}")
                self._seen.wait(min(left, 1.0))

    def finish(self, timeout: float) -> int:
        code = self.proc.wait(timeout=timeout)
        self._reader.join(10)
        return code

    def stop(self) -> None:
        """Stop the run as a user would (SIGTERM: it removes what it started), then for good."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=120)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    @property
    def text(self) -> str:
        return "\n".join(line for _, line in self.lines)


def env_for(work: Path, **extra: str) -> dict[str, str]:
    """The environment of one checkout's runs: its own state and output dirs."""
    return {**os.environ, "ST2PKG_STATE_DIR": str(work / "state"),
            "ST2PKG_OUTPUT": str(work / "out"), **extra}


def leftovers(run_ids: set[str]) -> list[str]:
    """Containers and networks still labelled with one of ``run_ids``."""
    return [name for run in sorted(run_ids) for name in run_containers(run) + run_networks(run)]


def assert_one_error(output: str, distro: str, step: str, error: str, log: Path) -> None:
    """The summary says ``distro`` failed at ``step``, with ``error`` and ``log``."""
    summary = output[output.index("\nsummary\n"):]
    block = re.search(rf"^  {distro}: FAILED at {re.escape(step)}\b.*\n((?:    .*\n)+)",
                      summary, re.MULTILINE)
    assert block is not None, output
    assert error in block.group(1), output
    assert f"log: {log}" in block.group(1), output


def temp_leftovers(*roots: Path) -> list[Path]:
    return [p for root in roots if root.exists() for p in root.rglob("*")
            if TEMP_NAMES.search(p.name)]


@pytest.fixture
def checkout(tmp_path: Path) -> Iterator[Cli]:
    """A Cli with this test's own state and output dirs; whatever its runs leave is removed
    afterwards, also when the test fails."""
    runner = Cli(env_for(tmp_path))
    yield runner
    runs = runner.run_ids()
    runner("clean", check=False)
    engine = docker.from_env()
    for run in runs:
        for container in engine.containers.list(all=True, filters={"label": f"st2pkg.run={run}"}):
            container.remove(force=True, v=True)
        for network in engine.networks.list(filters={"label": f"st2pkg.run={run}"}):
            network.remove()


def new_run(cli: Cli, before: set[str], timeout: float = 120) -> str:
    """The id of the run that appeared in ``cli``'s state dir since ``before``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        fresh = cli.run_ids() - before
        if fresh:
            return fresh.pop()
        time.sleep(0.2)
    raise AssertionError("no run started")


# Two distros built side by side: a multi-distro run, selected with `pytest -m matrix`.
@pytest.mark.matrix
def test_build_node_killed_mid_build(checkout: Cli) -> None:
    """bullseye's build node is killed while it builds: bullseye fails within 30 s naming
    the step and its log, bookworm still finishes, and the exit code says it failed."""
    out = Path(checkout.env["ST2PKG_OUTPUT"])
    before = checkout.run_ids()
    watched = Watched(["build", "--distro=bookworm,bullseye", "--package=st2client",
                       "--no-rpm-check", "--force", "--jobs=2"], checkout.env)
    try:
        # Long enough for both build images to be made first on a cold, busy engine.
        watched.wait_line(r"^\[bullseye\] build-st2client: started", timeout=2400)
        run = new_run(checkout, before)
        (node,) = docker.from_env().containers.list(filters={"label": [
            f"st2pkg.run={run}", "st2pkg.distro=bullseye", "st2pkg.role=build"]})
        killed = time.monotonic()  # before the call: the drop may be seen before it returns
        node.kill()
        failed = watched.wait_line(r"^\[bullseye\] build-st2client: FAILED", timeout=300)
        code = watched.finish(timeout=1800)
    finally:
        watched.stop()
    took = failed - killed
    print(f"\n[fault] build node killed: failure reported {took:.1f}s after the kill")
    assert took <= REPORT_WITHIN, watched.text
    assert code == 1, watched.text
    log = out / "bullseye" / "logs" / "build-st2client.log"
    assert_one_error(watched.text, "bullseye", "build-st2client",
                     "the connection to bullseye-build on 127.0.0.1:", log)
    assert "the connection to bullseye-build" in log.read_text()
    assert list((out / "bookworm").glob("st2client_*.deb"))
    assert not list((out / "bullseye").glob("*.deb"))
    assert not temp_leftovers(out)
    # Only the dead node and its network are kept (for debugging, as the run said).
    assert all("bullseye" in name for name in leftovers({run})), leftovers({run})
    checkout("clean")
    assert not leftovers({run})
    checkout("build", "--distro=bullseye", "--package=st2client", "--no-rpm-check")
    assert list((out / "bullseye").glob("st2client_*.deb"))
    assert not leftovers(checkout.run_ids())


@pytest.fixture
def mounts() -> Iterator[list[Path]]:
    """Mount points the test made; unmounted (innermost first) whatever happens."""
    made: list[Path] = []
    yield made
    for point in reversed(made):
        subprocess.run(["umount", "-l", str(point)], check=False)


def _mount(made: list[Path], *argv: str) -> None:
    proc = subprocess.run(["mount", *argv], capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        pytest.skip(f"mount {' '.join(argv[:-1])} is refused here ({proc.stderr.strip()}); "
                    "this fault needs root with CAP_SYS_ADMIN")
    if Path(argv[-1]) not in made:  # a remount changes a mount point already recorded
        made.append(Path(argv[-1]))


@pytest.mark.parametrize("fault", ["full", "read-only"])
def test_output_full_or_read_only(checkout: Cli, mounts: list[Path], tmp_path: Path,
                                  fault: str) -> None:
    """Publishing a (cached) package into an output dir that is full (a small tmpfs) or
    read-only (a read-only bind mount, its logs/ on a writable one, as when an output volume
    went read-only) fails with one clear error naming the publish step and its log, and
    leaves no partial package, SHA256SUMS or manifest behind."""
    build = ["build", "--distro=bookworm", "--package=st2client", "--no-rpm-check"]
    checkout(*build, f"--output={tmp_path / 'prime'}")  # fills the artifact cache
    (deb,) = (tmp_path / "prime" / "bookworm").glob("st2client_*.deb")
    out = tmp_path / "out"
    target = out / "bookworm"
    if fault == "full":
        target.mkdir(parents=True)
        room = 512 * 1024  # the logs fit, the package does not
        assert deb.stat().st_size > 2 * room
        _mount(mounts, "-t", "tmpfs", "-o", f"size={room}", "tmpfs", str(target))
        reason = "No space left on device"
    else:
        frozen, logs = tmp_path / "frozen", tmp_path / "logs"
        (frozen / "logs").mkdir(parents=True)
        logs.mkdir()
        target.mkdir(parents=True)
        _mount(mounts, "--bind", str(frozen), str(target))
        _mount(mounts, "-o", "remount,ro,bind", str(target))
        _mount(mounts, "--bind", str(logs), str(target / "logs"))
        reason = "Read-only file system"
    started = time.monotonic()
    proc = checkout(*build, f"--output={out}", check=False)
    took = time.monotonic() - started
    print(f"\n[fault] output {fault}: run ended with the error after {took:.1f}s")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    log = target / "logs" / "publish.log"
    assert_one_error(proc.stdout + proc.stderr, "bookworm", "publish",
                     f"publishing bookworm's packages to {target} failed: {reason}; nothing "
                     "there was changed", log)
    assert reason in log.read_text()
    assert sorted(p.name for p in target.iterdir()) == ["logs"]
    assert not temp_leftovers(out)
    assert not leftovers(checkout.run_ids())
    for point in reversed(mounts):
        subprocess.run(["umount", str(point)], check=True)
    mounts.clear()
    shutil.rmtree(out)
    checkout(*build, f"--output={out}")
    assert deb.name in verify_sums(target)


def _cache_complete(cache: Path) -> list[str]:
    """Problems with the shared cache: artifact entries whose files do not match their
    checksums, wheels that are not whole zip files, temporaries left behind."""
    problems = [f"temporary left: {p}" for p in temp_leftovers(cache)]
    entries = sorted((cache / "artifacts").glob("*/meta.json"))
    if not entries:
        problems.append("no artifact cache entry")
    for meta in entries:
        for item in json.loads(meta.read_text()):
            path = meta.parent / item["file"]
            if not path.is_file() or sha256_of(path) != item["sha256"]:
                problems.append(f"artifact {path} does not match its checksum")
    wheels = sorted((cache / "wheelhouse").rglob("*.whl"))
    if not wheels:
        problems.append("no wheel in the wheelhouse")
    for wheel in wheels:
        with zipfile.ZipFile(wheel) as archive:
            if archive.testzip() is not None:
                problems.append(f"wheel {wheel} is damaged")
    return problems


def test_two_checkouts_share_one_cache_at_once(tmp_path: Path) -> None:
    """Two checkouts build the same package for the same distro at the same moment, from a
    cold shared cache (ST2PKG_CACHE_DIR): both succeed, the wheelhouse is filled by one at
    a time, and every cache entry is whole, with no temporary left."""
    cache = tmp_path / "cache"
    runs: list[tuple[Path, dict[str, str]]] = []
    for name in ("a", "b"):
        clone = tmp_path / name
        subprocess.run(["git", "clone", "--quiet", "--shared", str(ROOT), str(clone)],
                       check=True)
        runs.append((clone, env_for(clone, ST2PKG_CACHE_DIR=str(cache))))
    args = ["build", "--distro=bookworm", "--package=st2client", "--no-rpm-check"]
    started = time.monotonic()
    procs = [Watched(args, env, cwd=clone) for clone, env in runs]
    try:
        codes = [p.finish(timeout=2400) for p in procs]
    finally:
        for p in procs:
            p.stop()
        for clone, env in runs:
            subprocess.run([*ST2PKG, "clean"], cwd=clone, env=env, capture_output=True,
                           check=False)
    took = time.monotonic() - started
    print(f"\n[fault] two checkouts at once: both done after {took:.1f}s")
    for p, code in zip(procs, codes, strict=True):
        assert code == 0, p.text
    outs = [Path(env["ST2PKG_OUTPUT"]) / "bookworm" for _, env in runs]
    waited = sum("completed by another run meanwhile" in
                 (out / "logs" / "wheels-st2client.log").read_text() for out in outs)
    print(f"[fault] wheelhouse: {waited} of 2 runs waited for the other's fill")
    for out in outs:
        assert list(out.glob("st2client_*.deb"))
        verify_sums(out)
        assert not temp_leftovers(out)
    assert _cache_complete(cache) == []
    again = [subprocess.run([*ST2PKG, *args], cwd=clone, env=env, capture_output=True,
                            text=True, check=False)
             for clone, env in runs]
    for proc in again:
        assert proc.returncode == 0, proc.stderr
    # Cached unless the build image's inputs changed meanwhile (they are part of the key).
    cached = sum("cached: inputs unchanged, nothing built" in p.stderr for p in again)
    print(f"[fault] rerun from each checkout: {cached} of 2 used the shared cache entry")
    assert _cache_complete(cache) == []


class EngineProxy:
    """A unix socket that forwards to the Docker engine until ``cut()``: then it stops
    listening and drops every connection, as an engine that went away does."""

    def __init__(self, path: Path, engine: str) -> None:
        self.path, self.engine = path, engine
        self.listener = socket.socket(socket.AF_UNIX)
        self.listener.bind(str(path))
        self.listener.listen(64)
        self.open: list[socket.socket] = []
        self.lock = threading.Lock()
        self.cutting = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self.cutting.is_set():
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            upstream = socket.socket(socket.AF_UNIX)
            upstream.connect(self.engine)
            with self.lock:
                self.open += [client, upstream]
            threading.Thread(target=self._pump, args=(client, upstream), daemon=True).start()

    def _pump(self, a: socket.socket, b: socket.socket) -> None:
        sel = selectors.DefaultSelector()
        sel.register(a, selectors.EVENT_READ, b)
        sel.register(b, selectors.EVENT_READ, a)
        try:
            while not self.cutting.is_set():
                for key, _ in sel.select(0.5):
                    data = key.fileobj.recv(1 << 16)  # type: ignore[union-attr]
                    if not data:
                        return
                    key.data.sendall(data)
        except OSError:
            return
        finally:
            sel.close()
            for s in (a, b):
                s.close()

    def cut(self) -> None:
        self.cutting.set()
        self.listener.close()
        self.path.unlink(missing_ok=True)
        with self.lock:
            for s in self.open:
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)
                s.close()


def _engine_socket() -> str:
    host = os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock")
    if not host.startswith("unix://"):
        pytest.skip(f"the engine is at {host}: this test cuts a unix socket in front of it")
    return host.removeprefix("unix://")


@pytest.fixture
def engine_cut(checkout: Cli, tmp_path: Path) -> tuple[Watched, int, float, str]:
    """A --force build whose Docker engine stops answering as soon as its build node starts
    coming up: (the run, its exit code, seconds from the cut to the failed step, run id)."""
    engine = _engine_socket()
    proxy = EngineProxy(tmp_path / "engine.sock", engine)
    env = {**checkout.env, "DOCKER_HOST": f"unix://{proxy.path}"}
    before = checkout.run_ids()
    watched = Watched(["build", "--distro=bookworm", "--package=st2client", "--no-rpm-check",
                       "--force"], env)
    try:
        watched.wait_line(r"^\[bookworm\] up: started", timeout=1800)
        cut = time.monotonic()
        proxy.cut()
        failed = watched.wait_line(r"^\[bookworm\] up: FAILED", timeout=300)
        code = watched.finish(timeout=300)
    finally:
        proxy.cut()
        watched.stop()
    print(f"\n[fault] engine unreachable: failure reported {failed - cut:.1f}s after the cut")
    return watched, code, failed - cut, new_run(checkout, before)


def test_engine_unreachable_mid_run(checkout: Cli,
                                    engine_cut: tuple[Watched, int, float, str]) -> None:
    """The Docker engine stops answering while a build node comes up: the distro fails at
    once naming the step and its log; once the engine is back, `st2pkg clean` leaves nothing
    of the run and a rerun works.

    Why a proxy socket on this engine rather than a second engine of the test's own that is
    restarted: the host engine may not be restarted (others use it), and a second dockerd
    must run in its own network namespace. The ports it publishes for the nodes' sshd then
    live in that namespace, so the whole CLI would have to run in it too (entered with
    nsenter --net: `ip netns exec` remounts /sys, and dockerd then finds no cgroups). Its
    vfs storage starts empty, and loading the bookworm build image alone (about 1 GB) took
    72 s here, before any container is made on vfs. Cutting a socket the test controls is
    what a restarting or vanished engine looks like from the client: connections dropped,
    new ones refused, and it runs in seconds."""
    watched, code, took, run = engine_cut
    assert took <= REPORT_WITHIN, watched.text
    assert code != 0, watched.text
    out = Path(checkout.env["ST2PKG_OUTPUT"])
    log = out / "bookworm" / "logs" / "up.log"
    assert_one_error(watched.text, "bookworm", "up", "stopped answering", log)
    assert not (out / "bookworm" / "manifest.json").exists()
    assert not temp_leftovers(out)
    checkout("clean")
    assert not leftovers({run})
    checkout("build", "--distro=bookworm", "--package=st2client", "--no-rpm-check")
    assert list((out / "bookworm").glob("st2client_*.deb"))


def test_engine_unreachable_is_said_plainly(
        engine_cut: tuple[Watched, int, float, str]) -> None:
    """The error says the engine stopped answering and what to do, without a traceback."""
    watched, code, _, _ = engine_cut
    assert code == 3, watched.text
    summary = watched.text[watched.text.index("\nsummary\n"):]
    assert "the Docker engine" in summary, summary
    assert "stopped answering" in summary, summary
    assert "st2pkg clean" in summary, summary
    assert 'File "' not in summary, summary
