from __future__ import annotations

import os
from pathlib import Path

import pytest

from st2pkg import cachejournal
from st2pkg.errors import ConfigError
from st2pkg.packs import localdir


def _pack(path: Path) -> Path:
    (path / "actions").mkdir(parents=True)
    (path / "pack.yaml").write_text("name: p\n", encoding="utf-8")
    (path / "actions" / "run.sh").write_text("echo hi\n", encoding="utf-8")
    return path


def _snapshots_then_bad_input(cache: Path, *dirs: Path) -> None:
    with cachejournal.undone_on_bad_input():
        for path in dirs:
            localdir.snapshot(path, cache, "spec")
        raise ConfigError("bad input found later")


def test_a_new_snapshot_is_undone_on_bad_input_and_a_kept_one_stays(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    kept = localdir.snapshot(_pack(tmp_path / "kept"), cache, "spec")[1]
    other = _pack(tmp_path / "other")
    (other / "more").write_text("x\n", encoding="utf-8")
    # The same content again reuses the snapshot; a new one is this run's own.
    with pytest.raises(ConfigError, match="found later"):
        _snapshots_then_bad_input(cache, tmp_path / "kept", other)
    assert sorted(cache.rglob("*")) == sorted([cache / "snapshots", kept,
                                               *kept.rglob("*")])


def test_a_pack_that_cannot_be_copied_is_one_line_and_leaves_nothing(tmp_path: Path) -> None:
    src = _pack(tmp_path / "pack")
    os.mkfifo(src / "actions" / "pipe")
    cache = tmp_path / "cache"
    with pytest.raises(ConfigError) as err, cachejournal.undone_on_bad_input():
        localdir.snapshot(src, cache, "spec.yml: pack_image.packs[0].pack")
    said = str(err.value)
    assert said.startswith(f"spec.yml: pack_image.packs[0].pack: {src} cannot be copied (")
    assert "pipe" in said
    assert "\n" not in said
    assert not cache.exists()
