"""Which download failures are worth another try, and the one line a failure gives. The
fetches themselves, against real local servers, are in test_packs_index.py."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
import requests
from urllib3.exceptions import MaxRetryError, NameResolutionError, NewConnectionError

from st2pkg import http
from st2pkg.errors import SourceError


def _answer(status: int) -> requests.HTTPError:
    response = requests.Response()
    response.status_code = status
    return requests.HTTPError(f"HTTP {status}", response=response)


# urllib3's errors name the pool or connection they came from; a table of errors has none.
def _unreachable(reason: Exception) -> requests.ConnectionError:
    return requests.ConnectionError(MaxRetryError(None, "/index.json", reason))  # type: ignore[arg-type]


@pytest.mark.parametrize(("error", "retried"), [
    (_answer(500), True),
    (_answer(503), True),
    (_answer(408), True),
    (_answer(429), True),
    (_answer(404), False),
    (_answer(401), False),
    (_answer(403), False),
    (requests.ReadTimeout("read timed out"), True),
    (requests.ConnectTimeout("connect timed out"), True),
    (requests.ConnectionError(ConnectionResetError(104, "Connection reset by peer")), True),
    (requests.exceptions.ChunkedEncodingError("connection broken"), True),
    (_unreachable(NewConnectionError(None, "Connection refused")),  # type: ignore[arg-type]
     False),
    (_unreachable(NameResolutionError("r.invalid", None,  # type: ignore[arg-type]
                                      socket.gaierror(-2, "no name"))), False),
    (requests.exceptions.SSLError("certificate verify failed"), False),
    (requests.exceptions.InvalidURL("No host supplied"), False),
    (ValueError("a bug"), False),
])
def test_transient_download_failures(error: BaseException, retried: bool) -> None:
    assert http.transient(error) is retried


def test_a_ca_bundle_that_is_not_there_is_one_line(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(tmp_path / "missing.pem"))
    with pytest.raises(SourceError, match=r"check the CA bundle") as err:
        http.get("https://bot:s3cret@127.0.0.1:9/index.json", what="the index")
    assert str(err.value).startswith("the index: cannot be read (")
    assert "\n" not in str(err.value)
    assert "s3cret" not in str(err.value)
    assert "retrying" not in capsys.readouterr().err
