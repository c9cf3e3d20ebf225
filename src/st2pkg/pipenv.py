"""pip settings of this host handed to containers that build wheels: index mirrors and the
extra CA a TLS-inspecting proxy needs. Values may hold credentials: never log them."""

from __future__ import annotations

import os
from pathlib import Path

PIP_ENV = ("PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL", "PIP_TRUSTED_HOST", "PIP_DEFAULT_TIMEOUT")
CA_ENV = ("PIP_CERT", "REQUESTS_CA_BUNDLE", "SSL_CERT_FILE")


def pip_env() -> dict[str, str]:
    """The host's pip index settings worth passing on."""
    return {name: os.environ[name] for name in PIP_ENV if os.environ.get(name)}


def ca_file() -> Path | None:
    """The CA bundle this host's pip trusts, when one is configured."""
    for name in CA_ENV:
        value = os.environ.get(name)
        if value and Path(value).is_file():
            return Path(value)
    return None
