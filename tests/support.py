"""Helpers shared by the integration tests: the CLI as users run it, Docker look-ups."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import docker

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Cli:
    """Runs `st2pkg <task>` (as `python -m st2pkg`) from the repo root with its own output
    and state dirs."""

    env: dict[str, str]

    def __call__(self, *args: str, check: bool = True,
                 extra_env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        env = {**self.env, **(extra_env or {})}
        proc = subprocess.run([sys.executable, "-m", "st2pkg", *args], cwd=ROOT, env=env,
                              capture_output=True, text=True, check=False)
        if check and proc.returncode != 0:
            raise AssertionError(f"st2pkg {' '.join(args)} exited {proc.returncode}\n"
                                 f"stdout:\n{proc.stdout}\nstderr:\n{proc.stderr}")
        return proc

    def popen(self, *args: str) -> subprocess.Popen[str]:
        return subprocess.Popen([sys.executable, "-m", "st2pkg", *args], cwd=ROOT, env=self.env,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)

    def run_ids(self) -> set[str]:
        """Ids of the runs in this Cli's state dir (each run makes its directory first)."""
        runs = Path(self.env["ST2PKG_STATE_DIR"]) / "runs"
        return {p.name for p in runs.iterdir()} if runs.is_dir() else set()


def run_containers(run_id: str | None = None) -> list[str]:
    """Names of containers of st2pkg runs (one run, or all)."""
    label = f"st2pkg.run={run_id}" if run_id else "st2pkg.run"
    client = docker.from_env()
    # ignore_removed: runs remove containers while tests watch them
    return [c.name for c in client.containers.list(all=True, filters={"label": label},
                                                   ignore_removed=True)]


MB = 1_000_000


def docker_run(image: str, argv: list[str], **kwargs: object) -> str:
    """Output of ``argv`` in a throwaway container of ``image``."""
    return bytes(docker.from_env().containers.run(image, argv, remove=True, **kwargs)).decode()


def copy_out(image: str, dest: Path) -> int:
    """Run the Kubernetes init-container copy of a pack image into ``dest/packs`` and
    ``dest/virtualenvs``; return the bytes of file content copied."""
    for tree in ("packs", "virtualenvs"):
        (dest / tree).mkdir(parents=True)
    docker_run(image, ["sh", "-ec", "cp -aR /opt/stackstorm/packs/. /out/packs/ && "
                       "cp -aR /opt/stackstorm/virtualenvs/. /out/virtualenvs/"],
               volumes={str(dest): {"bind": "/out", "mode": "rw"}})
    return sum(p.lstat().st_size for p in dest.rglob("*") if not p.is_dir())


def in_st2(st2_image: str, trees: Path, code: str, venv: str) -> str:
    """Run ``code`` with a pack venv inside an st2 image, the copied trees at their paths."""
    volumes = {str(trees / "packs"): {"bind": "/opt/stackstorm/packs", "mode": "ro"},
               str(trees / "virtualenvs"): {"bind": "/opt/stackstorm/virtualenvs", "mode": "ro"}}
    return docker_run(st2_image, [f"/opt/stackstorm/virtualenvs/{venv}/bin/python", "-c", code],
                      volumes=volumes, entrypoint=[])


def run_networks(run_id: str | None = None) -> list[str]:
    label = f"st2pkg.run={run_id}" if run_id else "st2pkg.run"
    return [n.name for n in docker.from_env().networks.list(filters={"label": label})]


def deb_field(deb: Path, option: str) -> str:
    """Output of `dpkg-deb <option> <deb>` (-c contents, -I info)."""
    return subprocess.run(["dpkg-deb", option, str(deb)], check=True, capture_output=True,
                          text=True).stdout


def verify_sums(folder: Path) -> list[str]:
    """Check folder/SHA256SUMS like `sha256sum -c`; returns the files it names."""
    import hashlib

    names = []
    for line in (folder / "SHA256SUMS").read_text().splitlines():
        digest, name = line.split("  ", 1)
        assert hashlib.sha256((folder / name).read_bytes()).hexdigest() == digest, name
        names.append(name)
    return names


def in_image(image_label: str, mounts: dict[str, str], argv: list[str]) -> str:
    """Run argv in the newest st2pkg image labelled st2pkg.image=<label>; returns stdout."""
    client = docker.from_env()
    images = client.images.list(filters={"label": f"st2pkg.image={image_label}"})
    assert images, f"no image labelled {image_label}"
    newest = max(images, key=lambda i: str(i.attrs["Created"]))
    volumes = {host: {"bind": path, "mode": "ro"} for host, path in mounts.items()}
    return bytes(client.containers.run(newest.id, argv, volumes=volumes, remove=True,
                                       entrypoint=[])).decode()
