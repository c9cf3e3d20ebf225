"""PEP 440 versions (st2's ``__version__``) as deb and rpm package versions that sort the same.

One mapping serves both formats: dpkg and rpm (>= 4.10) both sort ``~`` before anything, even
the end of the string, and both treat ``+`` as a separator that sorts after the end. So

    3.9.0.dev1 -> 3.9.0~~dev1    3.9.0a1 -> 3.9.0~a1    3.9.0rc1 -> 3.9.0~rc1
    3.9.0      -> 3.9.0          3.9.0.post1 -> 3.9.0+post1

A development version (st2 master says ``3.10dev``) gets a snapshot suffix from its commit's
date and sha, so that builds of one branch sort in commit order:
``3.10~~dev0.20261201104500.gc2eaf56b``.
"""

from __future__ import annotations

import time

from packaging.version import InvalidVersion, Version

from .errors import ConfigError

# Pre-releases sort after dev releases of the same version: one tilde fewer.
_PRE_TILDE = "~"
_DEV_TILDE = "~~"


def package_version(pep440: str, *, commit: str | None = None,
                    commit_time: int | None = None, what: str = "version") -> str:
    """The deb/rpm version for ``pep440``; dev versions get the commit's snapshot suffix."""
    try:
        parsed = Version(pep440)
    except InvalidVersion as err:
        raise ConfigError(f"{what} {pep440!r} is not a PEP 440 version; set ST2PKG_VERSION "
                          "to the package version to use") from err
    text = ".".join(str(part) for part in parsed.release)
    if parsed.pre is not None:
        letters, number = parsed.pre
        text += f"{_PRE_TILDE}{letters}{number}"
    if parsed.post is not None:
        text += f"+post{parsed.post}"
    if parsed.dev is not None:
        text += f"{_DEV_TILDE}dev{parsed.dev}"
        if commit is not None and commit_time is not None:
            stamp = time.strftime("%Y%m%d%H%M%S", time.gmtime(commit_time))
            text += f".{stamp}.g{commit[:8]}"
    if parsed.local is not None:
        text += f"+{parsed.local}"
    return text
