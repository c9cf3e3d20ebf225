"""Which image serves each service here: the official one when present or pullable, else one
built from Debian's packages; MongoDB, which Debian does not package, may be unavailable."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.unit.fakes import CATALOG, FakeEngine, options

from st2pkg.errors import StageError
from st2pkg.images import Images
from st2pkg.services import MONGODB, ServiceImage, resolve

OFFICIAL = {"rabbitmq": "rabbitmq:3.13", "postgres": "postgres:16", "redis": "redis:7"}


def chosen(tmp_path: Path, fake: FakeEngine, config: str = "") -> dict[str, ServiceImage]:
    opts = options(tmp_path, config)
    lines: list[str] = []
    return resolve(fake, Images(fake, opts), CATALOG, opts, lines.append)


def test_official_images_present_locally_are_used(tmp_path: Path) -> None:
    fake = FakeEngine(registry={"mongo:7.0": {}})
    for ref in OFFICIAL.values():
        fake.add_image(ref)
    found = chosen(tmp_path, fake)
    assert {n: s.ref for n, s in found.items()} == {**OFFICIAL, MONGODB: "mongo:7.0"}
    assert found["redis"].how == "official image redis:7 (present locally)"
    assert found[MONGODB].how == "official image mongo:7.0 (pulled)"
    assert fake.pulls == ["mongo:7.0"]
    assert fake.builds == []


def test_without_a_registry_services_are_built_from_debian_packages(tmp_path: Path) -> None:
    fake = FakeEngine()
    fake.add_image("debian:bookworm")
    found = chosen(tmp_path, fake)
    for name in OFFICIAL:
        assert found[name].available
        assert str(found[name].ref).startswith(f"st2pkg/{name}:")
        assert found[name].how.startswith(f"{found[name].ref} from Debian's packages: built; "
                                          f"official image {OFFICIAL[name]} cannot be pulled")
    assert [tag.split(":")[0] for tag, _, _ in fake.builds] == [
        "st2pkg/rabbitmq", "st2pkg/postgres", "st2pkg/redis"]
    assert {args["BASE"] for _, args, _ in fake.builds} == {"debian:bookworm"}


def test_mongodb_without_its_image_is_unavailable_with_the_reason(tmp_path: Path) -> None:
    fake = FakeEngine(registry={ref: {} for ref in OFFICIAL.values()})
    found = chosen(tmp_path, fake, "mongodb_image: mongo:6.0\n")
    assert not found[MONGODB].available
    assert found[MONGODB].how == ("official image mongo:6.0 cannot be pulled; MongoDB has no "
                                  "Debian package, so Mongo checks will be skipped")
    assert all(found[name].available for name in OFFICIAL)


def test_a_service_image_that_fails_to_build_fails_the_choice(tmp_path: Path) -> None:
    fake = FakeEngine(build_errors={"st2pkg/postgres": "E: Unable to locate package"})
    fake.add_image("debian:bookworm")
    with pytest.raises(StageError, match="Unable to locate package"):
        chosen(tmp_path, fake)
