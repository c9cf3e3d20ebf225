"""The one caching rule of images: reused when the tag exists and its inputs label matches."""

from __future__ import annotations

from pathlib import Path

from tests.unit.fakes import FakeEngine

from st2pkg.imagecache import INPUTS_LABEL, content_hash, context_hash, is_current, labels


def test_content_hash_keeps_part_boundaries_and_order() -> None:
    assert content_hash("ab", "c") != content_hash("a", "bc")
    assert content_hash("a", "b") != content_hash("b", "a")
    assert content_hash("a", b"b") == content_hash(b"a", "b")
    assert len(content_hash()) == 16


def test_context_hash_sees_names_content_and_the_executable_bit(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    script = tmp_path / "sub" / "entry"
    script.write_text("#!/bin/sh\n")
    script.chmod(0o644)
    seen = {context_hash(tmp_path)}
    script.chmod(0o755)
    seen.add(context_hash(tmp_path))
    script.write_text("#!/bin/sh\nexit 0\n")
    seen.add(context_hash(tmp_path))
    script.rename(tmp_path / "sub" / "entry2")
    seen.add(context_hash(tmp_path))
    assert len(seen) == 4
    (tmp_path / "empty-dir").mkdir()
    assert context_hash(tmp_path) in seen, "only files count"


def test_is_current_needs_the_tag_and_the_matching_label() -> None:
    fake = FakeEngine()
    assert not is_current(fake, "st2pkg/x:1", "abc")
    fake.add_image("st2pkg/x:1", **labels("abc", **{"st2pkg.image": "x"}))
    assert is_current(fake, "st2pkg/x:1", "abc")
    assert not is_current(fake, "st2pkg/x:1", "abd")
    fake.add_image("st2pkg/y:1")
    assert not is_current(fake, "st2pkg/y:1", ""), "an unlabelled image is never current"
    assert fake.image_labels("st2pkg/x:1") == {INPUTS_LABEL: "abc", "st2pkg.image": "x"}
