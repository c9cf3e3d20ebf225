"""The run's service containers answer from the node, each spoken to in its own protocol by
the node's st2pkg-probe-services (AMQP handshake, PostgreSQL SELECT 1, Redis PING, MongoDB
hello). MongoDB checks are skipped, with the reason, when the run has none."""

from __future__ import annotations

import pytest
from tests.infra.node import Node

PROBE = "/usr/local/bin/st2pkg-probe-services"


@pytest.mark.parametrize("backend", ["rabbitmq", "postgres", "redis", "mongodb"])
def test_backend_answers(node: Node, backend: str) -> None:
    if backend == "mongodb":
        node.require_mongodb()
    result = node.host.run("%s %s", PROBE, backend)
    shown = f"{PROBE} {backend} (exit {result.rc}):\n{result.stdout}{result.stderr}"
    assert result.rc == 0, shown
    # The probe exits 0 for a service whose host does not resolve: "not part of this run".
    assert result.stdout.startswith(f"{backend}: ok"), shown
