"""Every way a YAML file can be unreadable is one ConfigError naming the file and the fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from st2pkg.errors import ConfigError
from st2pkg.yamlfile import read_yaml


def read(path: Path) -> object:
    return read_yaml(path, "spec file", "pass an existing spec")


def test_a_good_file_is_parsed(tmp_path: Path) -> None:
    (tmp_path / "ok.yml").write_text("packs:\n  - email\n")
    assert read(tmp_path / "ok.yml") == {"packs": ["email"]}


@pytest.mark.parametrize(("content", "expect"), [
    (None, "{path}: spec file not found; pass an existing spec"),
    ("dir", "{path}: spec file is a directory, not a file; pass an existing spec"),
    (b"key: caf\xe9\n", "{path}: spec file is not UTF-8 text (byte 8); save it as UTF-8"),
    (b"key: [unclosed\n", "{path}: not valid YAML: "),
])
def test_unreadable_files(tmp_path: Path, content: bytes | str | None, expect: str) -> None:
    path = tmp_path / "spec.yml"
    if content == "dir":
        path.mkdir()
    elif isinstance(content, bytes):
        path.write_bytes(content)
    with pytest.raises(ConfigError) as info:
        read(path)
    assert str(info.value).startswith(expect.format(path=path))
    assert info.value.exit_code == 2


def test_a_key_given_twice_is_an_error_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "twice.yml"
    path.write_text("jobs: 2\nrelease: '1'\njobs: 3\n")
    with pytest.raises(ConfigError) as info:
        read_yaml(path, "config file", "fix it")
    assert str(info.value) == (f"{path}: not valid YAML: key 'jobs' is given twice at line 3, "
                               "column 1")
