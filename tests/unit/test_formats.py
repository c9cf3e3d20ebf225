from __future__ import annotations

from st2pkg.formats import FORMATS, Identity


def test_deb_identity_splits_release() -> None:
    out = "Package: st2client\nVersion: 3.9.0-2\nArchitecture: amd64\n"
    assert FORMATS["deb"].parse_identity(out) == Identity("st2client", "3.9.0", "2", "amd64")


def test_rpm_identity() -> None:
    out = "st2client\t3.9.0\t1\tx86_64\n"
    assert FORMATS["rpm"].parse_identity(out) == Identity("st2client", "3.9.0", "1", "x86_64")


def test_install_commands_quote_paths() -> None:
    assert "apt-get install" in FORMATS["deb"].install(["/tmp/a b.deb"])
    assert "'/tmp/a b.deb'" in FORMATS["deb"].install(["/tmp/a b.deb"])
    assert FORMATS["rpm"].install(["/x.rpm"]).startswith("dnf install -y")
