from __future__ import annotations

from pathlib import Path

import pytest

from st2pkg.distros import Catalog
from st2pkg.errors import ConfigError


def test_catalog_has_the_supported_matrix() -> None:
    catalog = Catalog.load()
    assert list(catalog.distros) == sorted(
        ["bullseye", "bookworm", "trixie", "focal", "jammy", "noble", "el8", "el9"])
    bookworm = catalog.get("bookworm")
    assert (bookworm.family, bookworm.format, bookworm.python_abi) == ("debian", "deb", "cp311")
    assert bookworm.bootstrap == "bookworm"
    assert "debhelper" in bookworm.build_packages
    assert catalog.get("el9").format == "rpm"
    assert catalog.get("jammy").bootstrap is None


def copy_catalog(tmp_path: Path, name: str, text: str) -> Path:
    src = Catalog.load()
    del src
    root = Path(__file__).resolve().parents[2] / "distros"
    (tmp_path / "formats.yml").write_text((root / "formats.yml").read_text())
    (tmp_path / f"{name}.yml").write_text(text)
    return tmp_path


def test_unknown_field_is_rejected_with_suggestion(tmp_path: Path) -> None:
    directory = copy_catalog(tmp_path, "sid", "name: sid\nfamily: debian\nformat: deb\n"
                             "version: '14'\npython: '3.13'\ninit: systemd\nimage: debian:sid\n"
                             "bootstrp: sid\n")
    with pytest.raises(ConfigError, match=r"sid.yml: unknown field 'bootstrp' \(did you mean"):
        Catalog.load(directory)


def test_bad_format_lists_allowed(tmp_path: Path) -> None:
    directory = copy_catalog(tmp_path, "sid", "name: sid\nfamily: debian\nformat: apk\n"
                             "version: '14'\npython: '3.13'\ninit: systemd\nimage: debian:sid\n")
    with pytest.raises(ConfigError, match="field 'format' is 'apk'; allowed: deb, rpm"):
        Catalog.load(directory)


def test_name_must_match_file(tmp_path: Path) -> None:
    directory = copy_catalog(tmp_path, "sid", "name: other\nfamily: debian\nformat: deb\n"
                             "version: '14'\npython: '3.13'\ninit: systemd\nimage: debian:sid\n")
    with pytest.raises(ConfigError, match="must equal the file name"):
        Catalog.load(directory)


def test_select_keeps_order_and_drops_repeats() -> None:
    catalog = Catalog.load()
    assert catalog.select(["trixie", "bookworm", "trixie"]) == ("trixie", "bookworm")
