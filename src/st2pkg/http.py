"""Downloads st2pkg makes itself (pack indexes): one kept requests session that trusts the
host's CA bundle, a timeout on every request, transient failures retried.

Credentials in a URL are taken out of it and sent as Basic auth on that request only:
requests drops them when a redirect leaves the host, and no URL that requests puts in an
error or a retry line holds them."""

from __future__ import annotations

import functools
import os
from pathlib import Path
from urllib.parse import unquote, urlsplit, urlunsplit

import requests
from urllib3.exceptions import MaxRetryError, NewConnectionError

from .errors import SourceError
from .redact import redact_text, secrets_of
from .retry import retrying

# Seconds to connect, and to wait for each next part of the answer.
TIMEOUT = (10.0, 30.0)
_AUTH_STATUS = (401, 403, 407)


@functools.cache
def session() -> requests.Session:
    """The session every download shares, so its connections are kept."""
    kept = requests.Session()
    # requests reads REQUESTS_CA_BUNDLE and CURL_CA_BUNDLE itself (they win over this);
    # our containers and pip's settings name the CA bundle in SSL_CERT_FILE.
    ca = os.environ.get("SSL_CERT_FILE")
    if ca and Path(ca).is_file():
        kept.verify = ca
    return kept


def transient(error: BaseException) -> bool:
    """A hiccup worth another try (5xx, 408, 429, a timeout, a dropped connection), rather
    than an answer (other 4xx), a bad URL, a bad certificate or a host that cannot be reached
    at all (no such name, connection refused)."""
    if isinstance(error, requests.HTTPError):
        status = error.response.status_code if error.response is not None else 0
        return status >= 500 or status in (408, 429)
    if isinstance(error, requests.Timeout | requests.exceptions.ChunkedEncodingError):
        return True
    if isinstance(error, requests.ConnectionError) and not isinstance(
            error, requests.exceptions.SSLError):
        cause = error.args[0] if error.args else None
        reason = cause.reason if isinstance(cause, MaxRetryError) else cause
        return not isinstance(reason, NewConnectionError)
    return False


def _without_credentials(url: str) -> tuple[str, tuple[str, str] | None]:
    """``url`` without its userinfo, and the (user, password) it held."""
    parts = urlsplit(url)
    if parts.username is None:
        return url, None
    bare = urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))
    return bare, (unquote(parts.username), unquote(parts.password or ""))


def _fetch(url: str, auth: tuple[str, str] | None) -> bytes:
    with session().get(url, auth=auth, timeout=TIMEOUT) as response:
        if not response.ok:
            raise requests.HTTPError(f"HTTP {response.status_code} {response.reason or ''}"
                                     .strip(), response=response)
        return response.content


def _reason(error: OSError) -> tuple[str, str]:
    """What went wrong, in a few words, and what to do about it."""
    if isinstance(error, requests.HTTPError):
        status = error.response.status_code if error.response is not None else 0
        hint = ("check the credentials in the URL" if status in _AUTH_STATUS
                else "try again later" if transient(error) else "check the URL")
        return str(error), hint
    if isinstance(error, requests.Timeout):
        return "no answer in time", "check the URL and the network, or try again later"
    # requests raises a bare OSError for a CA bundle path it cannot read.
    if isinstance(error, requests.exceptions.SSLError) or not isinstance(
            error, requests.RequestException):
        return str(error), "check the CA bundle (SSL_CERT_FILE or REQUESTS_CA_BUNDLE)"
    if not isinstance(error, requests.ConnectionError):
        return str(error), "check the URL"
    # The words of the socket error underneath urllib3's wrappers.
    root: BaseException = error
    while (inner := root.__cause__ or root.__context__) is not None:
        root = inner
    said = root.strerror if isinstance(root, OSError) and root.strerror else str(root)
    return said, "check the URL and the network (proxy, DNS)"


def get(url: str, *, what: str) -> bytes:
    """The body at http(s) ``url`` (redirects followed, transient failures retried and
    logged), or a one-line SourceError naming ``what``; credentials never shown."""
    bare, auth = _without_credentials(url)
    try:
        return retrying(lambda: _fetch(bare, auth), what=f"fetching {what}",
                        transient=transient)
    except OSError as err:
        said, hint = _reason(err)
        said = " ".join(redact_text(said, secrets_of(url)).split())
        raise SourceError(f"{what}: cannot be read ({said}); {hint}") from err
