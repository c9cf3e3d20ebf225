from __future__ import annotations

from pathlib import Path

import pytest
from tests.fixtures.packs import pack_yaml

from st2pkg.errors import ConfigError
from st2pkg.packs.metadata import load_pack_yaml


def write(tmp_path: Path, text: str) -> Path:
    (tmp_path / "pack.yaml").write_text(text, encoding="utf-8")
    return tmp_path


def test_valid_pack_yaml(tmp_path: Path) -> None:
    text = pack_yaml("email", "1.2.3", dependencies=["core", "https://example.org/x=v1.0.0"],
                     python_versions=["3", 2], stackstorm_version=">=3.0.0")
    meta = load_pack_yaml(write(tmp_path, text), "src@abc")
    assert meta.ref == "email"
    assert meta.version == "1.2.3"
    assert meta.dependencies == ("core", "https://example.org/x=v1.0.0")
    assert meta.python_versions == ("3", "2")
    assert meta.stackstorm_version == ">=3.0.0"


def test_ref_field_wins_over_name(tmp_path: Path) -> None:
    meta = load_pack_yaml(write(tmp_path, pack_yaml("My Pack", "1.0.0", ref="my_pack")), "s")
    assert (meta.ref, meta.name) == ("my_pack", "My Pack")


@pytest.mark.parametrize(("text", "message"), [
    (pack_yaml("email", "1.0"), "field 'version' is '1.0'"),
    (pack_yaml("email", "v1.0.0"), "semver"),
    (pack_yaml("email", "1.0.0", description=""), "field 'description' is required"),
    (pack_yaml("email", "1.0.0", author=None), "field 'author' is required"),
    ("description: d\nauthor: a\nversion: 1.0.0\n", "field 'name' is required"),
    (pack_yaml("Email Pack", "1.0.0"), "add a 'ref' field such as 'email_pack'"),
    (pack_yaml("email", "1.0.0", ref="E-mail"), "field 'ref' is 'E-mail'"),
    (pack_yaml("email", "1.0.0", dependencies="core"), "'dependencies' must be a list"),
    (pack_yaml("email", "1.0.0", dependencies=[3]), "'dependencies' must be a list"),
    (pack_yaml("email", "1.0.0", python_versions=["4"]), "python_versions entry '4'"),
    (pack_yaml("email", "1.0.0", stackstorm_version=3), "stackstorm_version"),
    ("- a list\n", "must be a mapping"),
    ("name: [unclosed\n", "not valid YAML"),
])
def test_invalid_pack_yaml(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message) as err:
        load_pack_yaml(write(tmp_path, text), "file:///packs/email@0123456789ab")
    assert str(err.value).startswith("file:///packs/email@0123456789ab: pack.yaml")


def test_missing_pack_yaml(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"no pack\.yaml at the top of the repository"):
        load_pack_yaml(tmp_path, "src@abc")


LAUGHS = "a: &a [x,x,x,x,x,x,x,x,x,x]\n" + "".join(
    f"{n}: &{n} [{', '.join(['*' + p] * 10)}]\n" for p, n in zip("abcde", "bcdef", strict=True))


@pytest.mark.parametrize(("text", "message"), [
    ("name: email\n  version: [1\n", r"pack\.yaml: not valid YAML: mapping values are not "
                                     r"allowed here at line 2, column 10$"),
    ("name: " + "[" * 3_000 + "]" * 3_000 + "\n", r"pack\.yaml: nested too deeply"),
    (LAUGHS, r"pack\.yaml: holds more than \d+ values once its anchors are expanded"),
    (b"name: caf\xe9\n", r"pack\.yaml: not UTF-8 text \(byte 9\); save it as UTF-8"),
])
def test_an_unreadable_pack_yaml_is_one_line(tmp_path: Path, text: str | bytes,
                                             message: str) -> None:
    path = tmp_path / "pack.yaml"
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    with pytest.raises(ConfigError, match=message) as err:
        load_pack_yaml(tmp_path, "src@abc")
    assert str(err.value).startswith("src@abc: pack.yaml: ")
    assert "\n" not in str(err.value)
    assert len(str(err.value)) < 300


def test_a_pack_yaml_that_is_a_directory(tmp_path: Path) -> None:
    (tmp_path / "pack.yaml").mkdir()
    with pytest.raises(ConfigError, match=r"^src@abc: pack\.yaml: is a directory, not a file"):
        load_pack_yaml(tmp_path, "src@abc")
