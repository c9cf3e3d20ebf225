"""Keep credentials that live inside URLs out of every printed line."""

from __future__ import annotations

import re

# scheme://userinfo@host... ; userinfo may be "user", "user:password" or a bare token. A path
# made from a URL has lost a slash (https:/u:pw@h), and is matched too. The scheme is bounded,
# so a long run of letters costs linear time.
_USERINFO = re.compile(r"(?P<scheme>\b[a-zA-Z][a-zA-Z0-9+.-]{0,31}:/{1,2})"
                       r"(?P<userinfo>[^/@\s]+)@")
# scp-like user:password@host:path (no scheme): a password is never shown either.
_SCP_PASSWORD = re.compile(r"(?<![\w./:@-])(?P<user>[\w.-]{1,64}):[^\s/@:]+@(?=[\w.-]+:)")
# Query parameters that carry credentials (signed URLs, API tokens).
_SECRET_QUERY = re.compile(r"(?i)([?&](?:access_token|private_token|token|password|passwd|"
                           r"secret|api_key|apikey|key|sig|signature|auth)=)[^&#\s]+")


def redact_url(url: str) -> str:
    """Replace the userinfo part of every URL in ``url``, and the values of query parameters
    that carry credentials (token=, key=, sig=, ...), with ``***``."""
    url = _USERINFO.sub(lambda m: f"{m.group('scheme')}***@", url)
    url = _SCP_PASSWORD.sub(lambda m: f"{m.group('user')}:***@", url)
    return _SECRET_QUERY.sub(lambda m: f"{m.group(1)}***", url)


def redact_text(text: str, secrets: tuple[str, ...] = ()) -> str:
    """Redact URL credentials and any literal secret strings from free text."""
    text = redact_url(text)
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text


def secrets_of(*urls: str) -> tuple[str, ...]:
    """The credential strings inside ``urls`` (userinfo parts), for ``redact_text``: the rest
    of a URL is worth showing in a message."""
    found: list[str] = []
    for url in urls:
        for match in _USERINFO.finditer(url):
            user, _, password = match.group("userinfo").partition(":")
            # A bare userinfo is an https token; ssh's "git@" names no secret.
            secret = password or (user if match.group("scheme").lower().startswith("http")
                                  else "")
            if secret:
                found.append(secret)
    return tuple(found)
