"""Exit codes by kind of error, and the "did you mean" every unknown name gets."""

from __future__ import annotations

import pytest

from st2pkg.errors import (
    USAGE,
    ConfigError,
    SourceError,
    St2PkgError,
    StageError,
    UnavailableError,
    suggest,
)


@pytest.mark.parametrize(("kind", "code"), [
    (ConfigError, USAGE), (SourceError, USAGE), (UnavailableError, 3), (StageError, 1),
    (St2PkgError, 1)])
def test_exit_codes(kind: type[St2PkgError], code: int) -> None:
    error = kind("what went wrong")
    assert error.exit_code == code
    assert isinstance(error, St2PkgError)
    assert str(error) == "what went wrong"


def test_suggest_the_closest_name_or_nothing() -> None:
    assert suggest("bookwrm", ["bullseye", "bookworm", "trixie"]) == " (did you mean 'bookworm'?)"
    assert suggest("zzz", ["bullseye", "bookworm"]) == ""
    assert suggest("x", []) == ""
