"""The one dispatch point for package-format differences (deb vs rpm): how to read a
package's identity, install, remove and query it. Everything else asks ``FORMATS[fmt]``."""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from .distros import Format


@dataclass(frozen=True)
class Identity:
    """What a package file says it is."""

    name: str
    version: str
    release: str
    arch: str


class PackageFormat(Protocol):
    """Commands (shell strings run on a node) for one package format."""

    name: Format
    suffix: str
    # The other format whose recipes this format's build nodes can also check (deb nodes
    # carry rpmbuild, so rpm specs are caught there; EL nodes have no dpkg-buildpackage).
    spec_check: Format | None

    def identify(self, path: str) -> str: ...
    def parse_identity(self, output: str) -> Identity: ...
    def install(self, paths: Sequence[str]) -> str: ...
    def purge(self, names: Sequence[str]) -> str: ...
    def is_installed(self, name: str) -> str: ...


class Deb:
    name: Format = "deb"
    suffix = ".deb"
    spec_check: Format | None = "rpm"

    def identify(self, path: str) -> str:
        return f"dpkg-deb -f {shlex.quote(path)} Package Version Architecture"

    def parse_identity(self, output: str) -> Identity:
        fields = dict(line.split(": ", 1) for line in output.strip().splitlines() if ": " in line)
        version, _, release = fields["Version"].rpartition("-")
        return Identity(fields["Package"], version or fields["Version"], release,
                        fields["Architecture"])

    def install(self, paths: Sequence[str]) -> str:
        quoted = " ".join(shlex.quote(p) for p in paths)
        return ("export DEBIAN_FRONTEND=noninteractive && apt-get update -q && "
                f"apt-get install -y -q --no-install-recommends {quoted}")

    def purge(self, names: Sequence[str]) -> str:
        return ("DEBIAN_FRONTEND=noninteractive apt-get purge -y -q "
                + " ".join(shlex.quote(n) for n in names))

    def is_installed(self, name: str) -> str:
        status = f"dpkg-query -W -f='${{Status}}' {shlex.quote(name)}"
        return f"{status} | grep -q 'install ok installed'"


class Rpm:
    name: Format = "rpm"
    suffix = ".rpm"
    spec_check: Format | None = None

    def identify(self, path: str) -> str:
        return ("rpm -qp --qf '%{NAME}\\t%{VERSION}\\t%{RELEASE}\\t%{ARCH}\\n' "
                + shlex.quote(path))

    def parse_identity(self, output: str) -> Identity:
        name, version, release, arch = output.strip().splitlines()[-1].split("\t")
        return Identity(name, version, release, arch)

    def install(self, paths: Sequence[str]) -> str:
        return "dnf install -y " + " ".join(shlex.quote(p) for p in paths)

    def purge(self, names: Sequence[str]) -> str:
        return "dnf remove -y " + " ".join(shlex.quote(n) for n in names)

    def is_installed(self, name: str) -> str:
        return f"rpm -q {shlex.quote(name)}"


FORMATS: dict[Format, PackageFormat] = {"deb": Deb(), "rpm": Rpm()}
