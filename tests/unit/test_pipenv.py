"""The host's pip settings handed to wheel-building containers."""

from __future__ import annotations

from pathlib import Path

import pytest

from st2pkg.pipenv import CA_ENV, PIP_ENV, ca_file, pip_env


@pytest.fixture
def no_pip_settings(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in (*PIP_ENV, *CA_ENV):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_only_set_index_settings_are_passed_on(no_pip_settings: pytest.MonkeyPatch) -> None:
    assert pip_env() == {}
    no_pip_settings.setenv("PIP_INDEX_URL", "https://u:p@mirror.example.invalid/simple")
    no_pip_settings.setenv("PIP_TRUSTED_HOST", "")
    no_pip_settings.setenv("PIP_NO_CACHE_DIR", "1")
    assert pip_env() == {"PIP_INDEX_URL": "https://u:p@mirror.example.invalid/simple"}


def test_the_first_existing_ca_bundle_wins(no_pip_settings: pytest.MonkeyPatch,
                                           tmp_path: Path) -> None:
    assert ca_file() is None
    bundle = tmp_path / "ca.pem"
    bundle.write_text("-----BEGIN CERTIFICATE-----\n")
    no_pip_settings.setenv("PIP_CERT", str(tmp_path / "missing.pem"))
    no_pip_settings.setenv("SSL_CERT_FILE", str(bundle))
    assert ca_file() == bundle
    no_pip_settings.setenv("REQUESTS_CA_BUNDLE", str(tmp_path))
    assert ca_file() == bundle, "a directory is no bundle"
