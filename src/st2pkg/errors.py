"""Every error st2pkg raises on purpose. Only the entry point turns one into an exit."""

from __future__ import annotations

import difflib
from collections.abc import Iterable

from .redact import redact_url

# The exit code of bad input, wherever it is found.
USAGE = 2


class St2PkgError(Exception):
    """Base error: a message for the user and the exit code it maps to. Its text never
    shows a URL's credentials, whichever value the message quotes."""

    exit_code = 1

    def __str__(self) -> str:
        return redact_url(super().__str__())


class ConfigError(St2PkgError):
    """Bad input: config file, environment, command line or spec file (exit 2)."""

    exit_code = USAGE


class SourceError(St2PkgError):
    """The source could not be fetched or the revision does not exist (exit 2)."""

    exit_code = USAGE


class UnavailableError(St2PkgError):
    """Something the run needs cannot be had on this machine (no registry, no tool)."""

    exit_code = 3


class StageError(St2PkgError):
    """A pipeline stage failed; the message names the log that tells why."""

    exit_code = 1


def suggest(word: str, choices: Iterable[str]) -> str:
    """Return ' (did you mean X?)' for the closest choice, or '' when nothing is close."""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""
