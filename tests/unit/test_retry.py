"""Which registry failures are worth another try: the engine says 500 for both a registry
hiccup and a machine that reaches no registry at all, and only the first is retried."""

from __future__ import annotations

import docker.errors
import pytest
import requests

from st2pkg.engineliveness import transient as _transient


def _api_error(status: int, explanation: str) -> docker.errors.APIError:
    response = requests.Response()
    response.status_code = status
    return docker.errors.APIError("pull failed", response=response, explanation=explanation)


@pytest.mark.parametrize(("error", "retried"), [
    (_api_error(500, 'received unexpected HTTP status: 503 Service Unavailable'), True),
    (_api_error(502, "Bad Gateway"), True),
    (_api_error(500, 'Get "https://r.invalid/v2/": dial tcp: lookup r.invalid: no such host'),
     False),
    (_api_error(500, "dial tcp 127.0.0.1:5000: connect: connection refused"), False),
    (_api_error(404, "manifest unknown"), False),
    (_api_error(401, "unauthorized: authentication required"), False),
    (requests.exceptions.ConnectionError("engine went away"), True),
    (ValueError("a bug"), False),
])
def test_transient_pull_failures(error: BaseException, retried: bool) -> None:
    assert _transient(error) is retried
