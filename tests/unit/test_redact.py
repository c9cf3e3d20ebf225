from __future__ import annotations

import pytest

from st2pkg.redact import redact_text, redact_url


@pytest.mark.parametrize(("url", "shown"), [
    ("https://user:pw@example.org/st2.git", "https://***@example.org/st2.git"),
    ("https://ghp_token@example.org/st2", "https://***@example.org/st2"),
    ("ssh://git@example.org/st2.git", "ssh://***@example.org/st2.git"),
    ("https://example.org/st2.git", "https://example.org/st2.git"),
    ("file:///srv/st2", "file:///srv/st2"),
])
def test_redact_url(url: str, shown: str) -> None:
    assert redact_url(url) == shown


def test_redact_text_in_error_output() -> None:
    text = "fatal: could not read from 'https://u:hunter2@example.org/x' (token hunter2)"
    out = redact_text(text, secrets=("hunter2",))
    assert "hunter2" not in out


def test_secrets_of_urls_are_the_credentials_only() -> None:
    from st2pkg.redact import secrets_of

    assert secrets_of("https://user:pw1@h.invalid/a", "https://tok9@h.invalid/b",
                      "ssh://git@h.invalid/c", "file:///srv/git") == ("pw1", "tok9")


@pytest.mark.parametrize(("url", "shown"), [
    ("https://h/index.json?token=abc123", "https://h/index.json?token=***"),
    ("https://h/i.json?v=1&access_token=abc&x=2", "https://h/i.json?v=1&access_token=***&x=2"),
    ("https://h/a?X-Sig=1&sig=zz#frag", "https://h/a?X-Sig=1&sig=***#frag"),
    ("https://h/a?ref=main", "https://h/a?ref=main"),
])
def test_credentials_in_a_query_are_hidden(url: str, shown: str) -> None:
    assert redact_url(url) == shown


@pytest.mark.parametrize(("text", "shown"), [
    ("user:s3cret@127.0.0.1:st2.git", "user:***@127.0.0.1:st2.git"),
    ("git@github.com:StackStorm/st2.git", "git@github.com:StackStorm/st2.git"),
    # a URL that went through pathlib has lost a slash
    ("/w/https:/u:s3cret@example.com/recipes", "/w/https:/***@example.com/recipes"),
    ("at 10:30 mail a@b", "at 10:30 mail a@b"),
])
def test_scp_passwords_and_urls_inside_paths_are_hidden(text: str, shown: str) -> None:
    assert redact_url(text) == shown


def test_a_long_run_of_letters_is_redacted_in_linear_time() -> None:
    # A 100 000-letter value once took seconds: the scheme's length is bounded now.
    text = "1;" + "x" * 100_000 + " https://u:pw@h/"
    assert redact_url(text).endswith("https://***@h/")
