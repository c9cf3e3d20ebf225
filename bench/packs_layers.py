"""Measure what pack images' caches and per-pack layers buy, as ratios taken in one run.

    ./bootstrap python bench/packs_layers.py [--base=st2pkg/st2] [--tag=bookworm] [--packs=3]

Makes ``--packs`` fixture pack repositories whose requirement compiles a C extension, then
runs `invoke packs.build` against a scratch cache and output directory:
  cold:     empty st2pkg cache (no wheels, no mirrors); every wheel compiles
  hit:      nothing changed: the image is up to date
  warm:     the image removed, caches kept: cached wheels, no compiler runs
  one pack: one pack's ref moves to a new commit: its stage and layer are rebuilt
and prints each duration, the ratios to cold, and how many of the image's layers changed.
The base (an st2 image) and the builder image may already exist; the packs carry a fresh
nonce so no earlier run's Docker layer cache answers. Compare ratios, not seconds.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import docker

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the fixture packs live with the tests

from tests.fixtures.packs import commit, native_pack  # noqa: E402

IMAGE = "st2pkg-bench/packs"


def timed(args: list[str], env: dict[str, str], compiles: bool = True) -> float:
    """Seconds `invoke args` took; exits if it fails, or compiles when it should not."""
    started = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "invoke", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        sys.exit(f"invoke {' '.join(args)} failed:\n{proc.stdout}\n{proc.stderr}")
    if not compiles and "pip wheel" in proc.stderr:
        sys.exit(f"invoke {' '.join(args)} compiled wheels it had cached:\n{proc.stderr}")
    return time.monotonic() - started


def write_spec(path: Path, base: str, tag: str, repos: list[Path], refs: list[str]) -> Path:
    packs = "".join(f"    - pack: {repo.as_uri()}={ref}\n" for repo, ref in zip(repos, refs,
                                                                             strict=True))
    path.write_text(f"base: {{image: {base}, tags: ['{tag}']}}\n"
                    f"pack_image:\n  image: {IMAGE}\n  version: '1.0.0'\n  packs:\n{packs}",
                    encoding="utf-8")
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", default="st2pkg/st2")
    parser.add_argument("--tag", default="bookworm")
    parser.add_argument("--packs", type=int, default=3)
    args = parser.parse_args()
    client = docker.from_env()
    image = f"{IMAGE}:1.0.0-{args.tag}"
    with tempfile.TemporaryDirectory(prefix="st2pkg-bench-packs-") as tmp:
        work = Path(tmp)
        env = {**os.environ, "ST2PKG_CACHE_DIR": f"{tmp}/cache", "ST2PKG_OUTPUT": f"{tmp}/out",
               "ST2PKG_STATE_DIR": f"{tmp}/state"}
        repos = [native_pack(work / "repos", f"bench{i}") for i in range(args.packs)]
        for repo in repos:
            commit(repo, {"nonce": uuid.uuid4().hex}, "nonce")
        refs = ["main"] * len(repos)
        spec = write_spec(work / "spec.yml", args.base, args.tag, repos, refs)
        build = ["packs.build", str(spec)]
        try:
            cold = timed(build, env)
            before = client.images.get(image).attrs["RootFS"]["Layers"]
            hit = timed(build, env, compiles=False)
            client.images.remove(image, force=True)
            warm = timed(build, env, compiles=False)
            refs[1 % len(repos)] = commit(repos[1 % len(repos)], {"nonce": uuid.uuid4().hex},
                                          "one pack changes")
            one = timed(["packs.build", str(write_spec(spec, args.base, args.tag, repos,
                                                       refs))], env, compiles=False)
            after = client.images.get(image).attrs["RootFS"]["Layers"]
        finally:
            client.images.remove(image, force=True)
    changed = sum(a != b for a, b in zip(before, after, strict=True))
    print(f"pack image of {args.packs} packs with a C extension each, on {args.base}:{args.tag}")
    print(f"  cold (empty caches):         {cold:7.1f}s")
    print(f"  hit (nothing changed):       {hit:7.1f}s   hit/cold  = {hit / cold:5.3f}")
    print(f"  warm (image removed):        {warm:7.1f}s   warm/cold = {warm / cold:5.3f}")
    print(f"  one pack's ref changed:      {one:7.1f}s   one/cold  = {one / cold:5.3f}")
    print(f"  layers changed by one pack:  {changed} of {len(after)}")


if __name__ == "__main__":
    main()
