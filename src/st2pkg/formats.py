"""The one dispatch point for package-format differences (deb vs rpm): how to read a
package's identity, install and remove it. Everything else asks ``FORMATS[fmt]``."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from .distros import Format
from .remote import Commands, Result


@dataclass(frozen=True)
class Identity:
    """What a package file says it is."""

    name: str
    version: str
    release: str
    arch: str


class PackageFormat(Protocol):
    """What differs between package formats, run on a node through ``Commands``."""

    name: Format
    suffix: str
    # The other format whose recipes this format's build nodes can also check (deb nodes
    # carry rpmbuild, so rpm specs are caught there; EL nodes have no dpkg-buildpackage).
    spec_check: Format | None

    def identify(self, node: Commands, path: str) -> Identity: ...
    def parse_identity(self, output: str) -> Identity: ...
    def install(self, node: Commands, paths: Sequence[str]) -> None: ...
    def purge(self, node: Commands, names: Sequence[str]) -> Result: ...


def _installing(paths: Sequence[str]) -> str:
    return f"installing {', '.join(p.rsplit('/', 1)[-1] for p in paths)}"


class Deb:
    name: Format = "deb"
    suffix = ".deb"
    spec_check: Format | None = "rpm"

    def identify(self, node: Commands, path: str) -> Identity:
        shown = node.run("dpkg-deb -f %s Package Version Architecture", path,
                         what=f"dpkg-deb -f {path}")
        return self.parse_identity(shown.stdout)

    def parse_identity(self, output: str) -> Identity:
        fields = dict(line.split(": ", 1) for line in output.strip().splitlines() if ": " in line)
        version, _, release = fields["Version"].rpartition("-")
        return Identity(fields["Package"], version or fields["Version"], release,
                        fields["Architecture"])

    def install(self, node: Commands, paths: Sequence[str]) -> None:
        node.run("export DEBIAN_FRONTEND=noninteractive && apt-get update -q && "
                 "apt-get install -y -q --no-install-recommends %s", paths,
                 what=_installing(paths))

    def purge(self, node: Commands, names: Sequence[str]) -> Result:
        """Purge ``names``; the caller decides on the exit code (output includes stderr)."""
        return node.run("DEBIAN_FRONTEND=noninteractive apt-get purge -y -q %s 2>&1", names,
                        check=False)


class Rpm:
    name: Format = "rpm"
    suffix = ".rpm"
    spec_check: Format | None = None

    def identify(self, node: Commands, path: str) -> Identity:
        shown = node.run("rpm -qp --qf '%%{NAME}\\t%%{VERSION}\\t%%{RELEASE}\\t%%{ARCH}\\n' %s",
                         path, what=f"rpm -qp {path}")
        return self.parse_identity(shown.stdout)

    def parse_identity(self, output: str) -> Identity:
        name, version, release, arch = output.strip().splitlines()[-1].split("\t")
        return Identity(name, version, release, arch)

    def install(self, node: Commands, paths: Sequence[str]) -> None:
        node.run("dnf install -y %s", paths, what=_installing(paths))

    def purge(self, node: Commands, names: Sequence[str]) -> Result:
        """Remove ``names``; the caller decides on the exit code (output includes stderr)."""
        return node.run("dnf remove -y %s 2>&1", names, check=False)


FORMATS: dict[Format, PackageFormat] = {"deb": Deb(), "rpm": Rpm()}
