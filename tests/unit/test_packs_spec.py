from __future__ import annotations

import re
from pathlib import Path

import pytest

from st2pkg.errors import ConfigError
from st2pkg.packs.source import PackRequest
from st2pkg.packs.spec import BuildPackages, load_spec

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

GOOD = """
base: {image: stackstorm/st2, tags: ["3.9.0", "3.10dev"]}
pack_image:
  image: registry.example.org:5000/ops/st2packs
  version: "1.0.0"
  packs:
    - pack: email
    - pack: slack=v1.0.0
    - {pack: ./local/pack, ref: feature}
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "packs.yml"
    path.write_text(text, encoding="utf-8")
    return path


def test_good_spec(tmp_path: Path) -> None:
    spec = load_spec(write(tmp_path, GOOD))
    assert spec.base.image == "stackstorm/st2"
    assert spec.base.tags == ("3.9.0", "3.10dev")
    assert spec.image_tag("3.9.0") == "registry.example.org:5000/ops/st2packs:1.0.0-3.9.0"
    assert [entry.request for entry in spec.packs] == [
        PackRequest("index", "email", None),
        PackRequest("index", "slack", "v1.0.0"),
        PackRequest("path", str(tmp_path / "local" / "pack"), "feature"),
    ]
    assert spec.packs[2].where.endswith("packs.yml: pack_image.packs[2]")


@pytest.mark.parametrize(("name", "tag", "kinds"), [
    ("packs.yml", "example/st2packs:1.0.0-bookworm", {"path"}),
    ("packs-exchange.yml", "example/st2packs:1.0.0-3.9.0", {"index", "git", "path"}),
])
def test_example_specs_are_valid(name: str, tag: str, kinds: set[str]) -> None:
    spec = load_spec(EXAMPLES / name)
    assert [spec.image_tag(t) for t in spec.base.tags] == [tag]
    assert {entry.request.kind for entry in spec.packs} == kinds
    for entry in spec.packs:
        if entry.request.kind == "path":
            assert Path(entry.request.location).is_dir(), entry.where


@pytest.mark.parametrize(("old", "new", "message"), [
    ("pack_image:", "pack_imge:", re.escape("key 'pack_imge' (did you mean 'pack_image'?)")),
    ("base: {image", "base: {imag", re.escape("base: unknown key 'imag' (did you mean 'image'?)")),
    ("version:", "verison:", re.escape("unknown key 'verison' (did you mean 'version'?)")),
    ("- pack: email", "- pakc: email", r"packs\[0\]: unknown key 'pakc'"),
    ('tags: ["3.9.0", "3.10dev"]', "tags: [3.10]", r"base.tags\[0\]: 3.1 reads as a number"),
    ('tags: ["3.9.0", "3.10dev"]', "tags: []", "base.tags: must be a non-empty list"),
    ('tags: ["3.9.0", "3.10dev"]', "tags: 3.9.0", "base.tags: must be a non-empty list"),
    ('"1.0.0"', "1.0", "pack_image.version: 1.0 reads as a number"),
    ('"1.0.0"', '"1 0"', "pack_image.version: '1 0' is not a valid image tag"),
    ("stackstorm/st2,", "stackstorm/st2:3.9,", "base.image: .*put tags under base.tags"),
    ("ops/st2packs", "Ops/St2packs", "pack_image.image: 'registry.* is not an image name"),
    ("ref: feature", "ref: 1.10", r"packs\[2\].ref: 1.1 reads as a number; quote it"),
    ("ref: feature", "ref: 2024-01-31", r"packs\[2\].ref: 2024-01-31 reads as a date; quote"),
    # Any pack that is not a string is refused as such, never looked up in an index.
    ("- pack: email", "- pack: 42", r"packs\[0\].pack: 42 reads as a number; quote it"),
    ("- pack: email", "- pack: 1.0", r"packs\[0\].pack: 1.0 reads as a number; quote it"),
    ("- pack: email", "- pack: yes", r"packs\[0\].pack: reads as a boolean .*; quote it"),
    ("- pack: email", "- pack:", r"packs\[0\].pack: is empty; give a value"),
    ("- pack: email", "- pack: [email]", r"packs\[0\].pack: must be a string, got a list"),
    ("- pack: email", "- pack: {a: b}", r"packs\[0\].pack: must be a string, got a mapping"),
    ("- pack: email", "- pack: email=1.0.0\n      ref: 2.0.0", "disagrees"),
    ("- pack: email", "- email", r"packs\[0\]: must be a mapping"),
    ("- pack: email", "- pack: 'e mail'", r"packs\[0\].pack: 'e mail' is not an index name"),
    ("- pack: email", "- ref: v1", r"packs\[0\]: missing required key 'pack'"),
])
def test_bad_specs(tmp_path: Path, old: str, new: str, message: str) -> None:
    assert old in GOOD
    path = write(tmp_path, GOOD.replace(old, new, 1))
    with pytest.raises(ConfigError, match=message) as err:
        load_spec(path)
    assert str(err.value).startswith(str(path))
    assert err.value.exit_code == 2


@pytest.mark.parametrize(("text", "message"), [
    ("", "must be a mapping"),
    ("base: {image: a, tags: [x]}\n", "missing required key 'pack_image'"),
    ("base: [\n", "not valid YAML"),
    ("base: " + "[" * 3_000 + "]" * 3_000 + "\n", "nested too deeply"),
    ("base: {image: a, tags: [x]}\npack_image: {image: b, version: '1', packs: []}\n",
     "pack_image.packs: must be a non-empty list"),
])
def test_bad_spec_shapes(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message) as err:
        load_spec(write(tmp_path, text))
    assert "\n" not in str(err.value)
    assert len(str(err.value)) < 300


def test_missing_spec_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="spec file not found"):
        load_spec(tmp_path / "nope.yml")


def test_build_packages_by_format(tmp_path: Path) -> None:
    spec = load_spec(write(tmp_path, GOOD + "  build_packages:\n    deb: [libpq-dev, libgmp-dev]\n"
                                            "    rpm: [libpq-devel]\n"))
    assert spec.build_packages == BuildPackages(("libpq-dev", "libgmp-dev"), ("libpq-devel",))
    assert load_spec(write(tmp_path, GOOD)).build_packages == BuildPackages()


@pytest.mark.parametrize(("value", "message"), [
    ("{debian: [x]}", r"pack_image\.build_packages: unknown key 'debian'.*allowed: deb, rpm"),
    ("{deb: libpq-dev}", r"pack_image\.build_packages\.deb: must be a list of package names"),
    ("{rpm: [ok, '-y']}", r"pack_image\.build_packages\.rpm\[1\]: '-y' is not a package name"),
    ("{deb: ['a b']}", r"pack_image\.build_packages\.deb\[0\]: 'a b' is not a package name"),
])
def test_bad_build_packages(tmp_path: Path, value: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_spec(write(tmp_path, GOOD + f"  build_packages: {value}\n"))
