"""Measure what st2pkg's caches buy, as ratios taken in one run on one machine.

    ./bootstrap python bench/build_cache.py [--distro=bookworm] [--package=st2client]

Runs `invoke build` three times against a scratch cache and output directory:
  cold:  empty wheelhouse and artifact cache (node images may already exist)
  warm:  wheelhouse kept, --force rebuilds the package (a source change looks like this)
  hit:   nothing changed: the artifact cache answers, no node starts
and prints each duration and the ratios cold/warm and cold/hit. Timings are wall-clock on a
shared machine: compare ratios, not absolute seconds.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def timed(args: list[str], env: dict[str, str]) -> float:
    started = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "invoke", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        sys.exit(f"invoke {' '.join(args)} failed:\n{proc.stdout}\n{proc.stderr}")
    return time.monotonic() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--distro", default="bookworm")
    parser.add_argument("--package", default="st2client")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="st2pkg-bench-") as tmp:
        env = {**os.environ, "ST2PKG_CACHE_DIR": f"{tmp}/cache", "ST2PKG_OUTPUT": f"{tmp}/out",
               "ST2PKG_STATE_DIR": f"{tmp}/state"}
        build = ["build", f"--distro={args.distro}", f"--package={args.package}",
                 "--no-rpm-check"]
        cold = timed(build, env)
        warm = timed([*build, "--force"], env)
        hit = timed(build, env)
        timed(["clean"], env)
    print(f"build {args.package} on {args.distro}")
    print(f"  cold (empty caches):          {cold:7.1f}s")
    print(f"  warm (wheelhouse, --force):   {warm:7.1f}s   cold/warm = {cold / warm:5.2f}x")
    print(f"  hit (nothing changed):        {hit:7.1f}s   cold/hit  = {cold / hit:5.2f}x")


if __name__ == "__main__":
    main()
