"""The Docker wrapper against a real engine, where several parties remove the same things."""

from __future__ import annotations

import io
import tarfile
import threading
import uuid
from collections.abc import Iterator

import pytest

from st2pkg.containers import Docker

pytestmark = pytest.mark.docker


@pytest.fixture(scope="module")
def empty_image(engine: Docker) -> Iterator[str]:
    """An image with one empty file: enough to create (never start) containers from."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        tar.addfile(tarfile.TarInfo("placeholder"), io.BytesIO(b""))
    ref = "st2pkg-test/empty:latest"
    engine.client.api.import_image_from_data(buf.getvalue(), repository="st2pkg-test/empty",
                                             tag="latest")
    yield ref
    engine.remove_image(ref)


def test_two_sweeps_at_once_both_succeed_and_leave_nothing(engine: Docker,
                                                           empty_image: str) -> None:
    # An interrupted run sweeps its label while compose down removes the same containers.
    label = f"st2pkg.test-sweep={uuid.uuid4().hex[:12]}"
    key, value = label.split("=")
    network = engine.client.networks.create(f"st2pkg-test-{value}", labels={key: value})
    for n in range(12):
        engine.client.containers.create(empty_image, command=["/placeholder"],
                                        name=f"st2pkg-test-{value}-{n}", labels={key: value},
                                        network=network.name)
    start = threading.Barrier(2)
    counts: list[dict[str, int]] = []
    errors: list[BaseException] = []

    def sweep() -> None:
        start.wait()
        try:
            counts.append(engine.remove_labelled(label))
        except BaseException as err:  # collected: the assertion below names it
            errors.append(err)

    threads = [threading.Thread(target=sweep) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert engine.containers([label]) == []
    assert engine.client.networks.list(filters={"label": label}) == []
    # each object is counted by the sweep that removed it, never twice
    assert sum(c["containers"] for c in counts) == 12
    assert sum(c["networks"] for c in counts) == 1
