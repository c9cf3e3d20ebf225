"""The pack wheel builder over the fake engine: its image is tagged by every input and
reused while its st2pkg.inputs label says it was made from them; each pack's wheels are
built once per base image, build packages and requirements."""

from __future__ import annotations

from pathlib import Path

from tests.unit.fakes import FakeEngine

from st2pkg.imagecache import INPUTS_LABEL
from st2pkg.packs.builder import ST2_PYTHON, Wheelhouse, builder_image, distribution
from st2pkg.packs.resolve import ResolvedPack
from st2pkg.packs.spec import BuildPackages

BASE = "st2pkg/st2:bookworm"
EXTRA = BuildPackages(deb=("libldap2-dev", "libsasl2-dev"), rpm=("openldap-devel",))


def test_the_builder_is_built_with_its_inputs_then_reused() -> None:
    fake = FakeEngine()
    fake.add_image(BASE)
    lines: list[str] = []
    tag = builder_image(fake, BASE, EXTRA, lines.append)
    (built, buildargs, labels), = fake.builds
    assert built == tag
    assert tag.startswith("st2pkg/packs-builder:")
    assert buildargs == {"BASE": BASE, "EXTRA_DEB": "libldap2-dev libsasl2-dev",
                         "EXTRA_RPM": "openldap-devel"}
    assert labels == {INPUTS_LABEL: tag.rsplit(":", 1)[1], "st2pkg.image": "packs-builder"}
    assert lines[0] == f"building {tag} (toolchain for pack requirements) on {BASE}"
    assert builder_image(fake, BASE, EXTRA, lines.append) == tag
    assert len(fake.builds) == 1


def test_a_builder_not_made_from_its_inputs_is_rebuilt() -> None:
    fake = FakeEngine()
    fake.add_image(BASE)
    tag = builder_image(fake, BASE, EXTRA, print)
    fake.images[tag].labels[INPUTS_LABEL] = "something-else"
    assert builder_image(fake, BASE, EXTRA, print) == tag
    assert len(fake.builds) == 2


def test_the_tag_follows_the_base_image_and_the_build_packages() -> None:
    fake = FakeEngine()
    fake.add_image(BASE)
    first = builder_image(fake, BASE, EXTRA, print)
    assert builder_image(fake, BASE, BuildPackages(deb=("libldap2-dev",)), print) != first
    fake.add_image(BASE)  # the st2 image was rebuilt: a new id
    assert builder_image(fake, BASE, EXTRA, print) != first


def pack(tmp_path: Path, name: str, requirements: str) -> ResolvedPack:
    path = tmp_path / name
    path.mkdir()
    (path / "requirements.txt").write_text(requirements)
    return ResolvedPack(name, name, "1.0.0", f"index:{name}", "0" * 40, path, True, "1.0.0",
                        "spec")


def test_pack_wheels_are_built_once_per_requirement_set(tmp_path: Path) -> None:
    fake = FakeEngine()
    fake.add_image(BASE)
    house = Wheelhouse(fake, BASE, EXTRA, tmp_path / "cache", print)
    ldap = pack(tmp_path, "ldap", "python-ldap==3.4\n")
    same = pack(tmp_path, "ad", "python-ldap==3.4\n")
    wheels = house.wheels(ldap)
    assert wheels == tmp_path / "cache" / "wheels" / house.key(ldap)
    assert wheels.is_dir()
    ((image, argv),) = fake.commands
    assert image == builder_image(fake, BASE, EXTRA, print)
    assert argv == [ST2_PYTHON, "-m", "pip", "wheel", "--wheel-dir", "/st2pkg/wheels", "-r",
                    "/opt/stackstorm/packs/ldap/requirements.txt"]
    assert house.wheels(same) == wheels, "the same requirements share their wheels"
    assert len(fake.commands) == 1
    assert len(fake.builds) == 1
    other = pack(tmp_path, "jira", "jira==3.8\n")
    assert house.wheels(other) != wheels
    assert len(fake.commands) == 2


def test_wheel_names_become_pins() -> None:
    assert distribution("python_ldap-3.4.4-cp311-cp311-linux_x86_64.whl") == (
        "python_ldap==3.4.4")
