from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from pathlib import Path

from st2pkg.artifacts import Artifact, ArtifactCache, publish, sha256_of


def artifact(path: Path, **extra: object) -> Artifact:
    base = Artifact(file=path.name, recipe="st2client", name="st2client", version="3.9.0",
                    release="1", arch="amd64", format="deb", kind="package", distro="bookworm",
                    size=path.stat().st_size, sha256=sha256_of(path),
                    source_url="pypi:st2client", source_revision="3.9.0", source_commit="",
                    build_seconds=1.0)
    return replace(base, **extra)  # type: ignore[arg-type]


def test_publish_writes_packages_sums_and_manifest(tmp_path: Path) -> None:
    pkg = tmp_path / "st2client_3.9.0-1_amd64.deb"
    pkg.write_bytes(b"deb-bytes")
    rpm = tmp_path / "st2client-3.9.0-1.x86_64.rpm"
    rpm.write_bytes(b"rpm-bytes")
    out = tmp_path / "out"
    manifest = publish(out, "bookworm", [(pkg, artifact(pkg)),
                                         (rpm, artifact(rpm, format="rpm", kind="rpm-check"))])
    data = json.loads(manifest.read_text())
    assert [a["path"] for a in data["artifacts"]] == [pkg.name, f"rpm-check/{rpm.name}"]
    sums = (out / "SHA256SUMS").read_text().splitlines()
    assert sums[0] == f"{hashlib.sha256(b'deb-bytes').hexdigest()}  {pkg.name}"
    assert (out / "rpm-check" / rpm.name).read_bytes() == b"rpm-bytes"
    assert not list(out.rglob(".*"))


def test_republish_drops_files_no_longer_produced(tmp_path: Path) -> None:
    old = tmp_path / "st2client_3.8.0-1_amd64.deb"
    old.write_bytes(b"old")
    new = tmp_path / "st2client_3.9.0-1_amd64.deb"
    new.write_bytes(b"new")
    out = tmp_path / "out"
    publish(out, "bookworm", [(old, artifact(old))])
    publish(out, "bookworm", [(new, artifact(new))])
    assert sorted(p.name for p in out.iterdir()) == sorted(
        ["SHA256SUMS", "manifest.json", new.name])


def test_cache_round_trip_and_incomplete_entries(tmp_path: Path) -> None:
    pkg = tmp_path / "a.deb"
    pkg.write_bytes(b"a")
    cache = ArtifactCache(tmp_path / "cache")
    assert cache.get("k") is None
    folder = cache.put("k", [pkg], [artifact(pkg)])
    hit = cache.get("k")
    assert hit is not None
    assert hit[1][0].sha256 == sha256_of(pkg)
    (folder / "a.deb").unlink()
    assert cache.get("k") is None
