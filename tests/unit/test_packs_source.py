from __future__ import annotations

from pathlib import Path

import pytest

from st2pkg.errors import ConfigError
from st2pkg.packs.source import PackRequest, parse_source


@pytest.mark.parametrize(("text", "ref", "want"), [
    ("email", None, PackRequest("index", "email", None)),
    ("email=1.2.3", None, PackRequest("index", "email", "1.2.3")),
    ("email", "v1.2.3", PackRequest("index", "email", "v1.2.3")),
    ("email=main", "main", PackRequest("index", "email", "main")),
    ("https://example.org/org/stackstorm-email.git", None,
     PackRequest("git", "https://example.org/org/stackstorm-email.git", None)),
    ("https://example.org/org/email=feature/x", None,
     PackRequest("git", "https://example.org/org/email", "feature/x")),
    ("ssh://git@example.org/org/email.git=abc1234", None,
     PackRequest("git", "ssh://git@example.org/org/email.git", "abc1234")),
    ("git@example.org:org/email.git", "1.0.0",
     PackRequest("git", "git@example.org:org/email.git", "1.0.0")),
    ("git://example.org/email", None, PackRequest("git", "git://example.org/email", None)),
    ("file:///srv/packs/email=v2.0.0", None,
     PackRequest("git", "file:///srv/packs/email", "v2.0.0")),
])
def test_source_forms(text: str, ref: str | None, want: PackRequest) -> None:
    assert parse_source(text, ref, "spec", base_dir=None) == want


def test_paths_are_relative_to_the_base_dir(tmp_path: Path) -> None:
    got = parse_source("./packs/email=1.0.0", None, "spec", base_dir=tmp_path)
    assert got == PackRequest("path", str(tmp_path / "packs" / "email"), "1.0.0")
    assert parse_source(str(tmp_path), None, "spec", None).location == str(tmp_path)


def test_display_hides_credentials() -> None:
    got = parse_source("https://user:s3cret@example.org/email.git=v1.0.0", None, "spec", None)
    assert got.location == "https://user:s3cret@example.org/email.git"
    assert got.display == "https://***@example.org/email.git=v1.0.0"


@pytest.mark.parametrize(("text", "ref", "message"), [
    ("", None, "must name a pack"),
    ("email=", None, "NAME=REF"),
    ("email=1.0.0", "2.0.0", "disagrees"),
    ("email=-x", None, "not a valid branch"),
    ("email", "a..b", "not a valid branch"),
    ("e mail", None, "not an index name"),
    ("./relative", None, "relative path"),
])
def test_bad_sources(text: str, ref: str | None, message: str) -> None:
    with pytest.raises(ConfigError, match=message) as err:
        parse_source(text, ref, "packs.yml: pack_image.packs[0].pack", None)
    assert str(err.value).startswith("packs.yml: pack_image.packs[0].pack")


def test_bad_source_errors_hide_credentials() -> None:
    with pytest.raises(ConfigError) as err:
        parse_source("https://u:s3cret@example.org/x=", None, "spec", None)
    assert "s3cret" not in str(err.value)
