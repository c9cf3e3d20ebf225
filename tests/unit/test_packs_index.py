from __future__ import annotations

import base64
import datetime
import ipaddress
import json
import socket
import ssl
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from tests.fixtures.packs import index_entry, write_index

from st2pkg import http, retry
from st2pkg.errors import ConfigError, SourceError
from st2pkg.packs import commands
from st2pkg.packs.index import Index, load_index

REPO = "https://example.org/packs/{}.git"


@pytest.fixture
def two_indexes(tmp_path: Path) -> tuple[Path, Path]:
    first = write_index(tmp_path / "first.json", {
        "email": index_entry("email", REPO.format("email"), "1.0.0", author="Ann"),
        "shared": index_entry("shared", REPO.format("shared-first"), "1.0.0"),
    })
    second = write_index(tmp_path / "second.json", {
        "shared": index_entry("shared", REPO.format("shared-second"), "2.0.0"),
        "jira": index_entry("jira", REPO.format("jira"), "3.0.0"),
    })
    return first, second


def test_merge_first_listed_wins(two_indexes: tuple[Path, Path]) -> None:
    first, second = two_indexes
    merged = Index([str(first), second.as_uri()])
    assert sorted(merged.entries) == ["email", "jira", "shared"]
    assert merged.get("shared").repo_url == REPO.format("shared-first")
    assert merged.get("shared").index == str(first)
    flipped = Index([second.as_uri(), str(first)])
    assert flipped.get("shared").version == "2.0.0"
    assert flipped.get("shared").index == second.as_uri()


def test_get_by_name_and_did_you_mean(tmp_path: Path) -> None:
    path = write_index(tmp_path / "i.json", {
        "my_pack": index_entry("my_pack", REPO.format("my"), "1.0.0", name="My Pack")})
    index = Index([str(path)])
    assert index.get("My Pack").ref == "my_pack"
    with pytest.raises(ConfigError, match=r"'my_pak' is in no pack index .*'my_pack'\?"):
        index.get("my_pak")


def test_search_gives_st2s_results(tmp_path: Path) -> None:
    # st2 ranks a pack by the first field, in the entry's own order, that matches: name,
    # then keywords (whole items), then anything else but repo_url and email; index order
    # within a rank. chat's author comes before its name, so it ranks with the rest.
    path = write_index(tmp_path / "i.json", {
        "smtp": index_entry("smtp", REPO.format("smtp"), "1.0.0", description="Send MAIL"),
        "notify": index_entry("notify", REPO.format("n"), "1.0.0", keywords=["Mailing"]),
        "post": index_entry("post", REPO.format("p"), "1.0.0", keywords=["MAIL"]),
        "zmail": index_entry("zmail", REPO.format("z"), "1.0.0"),
        "email": index_entry("email", REPO.format("e"), "1.0.0", email="mail@example.org"),
        "chat": {"author": "Mail Man", **{k: v for k, v in index_entry(
            "chat", REPO.format("c"), "1.0.0").items() if k != "author"}},
        "jira": index_entry("jira", REPO.format("mail"), "1.0.0", email="mail@example.org"),
        "csv": index_entry("csv", REPO.format("csv"), "1.0.0",
                           content={"mail": {"count": 1}}),
    })
    rows = commands.search("Mail", [str(path)])
    assert [row[0] for row in rows] == ["zmail", "email", "post", "smtp", "chat", "csv"]
    assert rows[1] == ("email", "1.0.0", "Fixture Author", "The email pack")
    assert commands.search("no such thing", [str(path)]) == []


def test_search_keeps_st2s_order_across_indexes(two_indexes: tuple[Path, Path]) -> None:
    # st2 merges the last index first and lets earlier ones overwrite in place.
    rows = commands.search("pack", [str(p) for p in two_indexes])
    assert [(row[0], row[1]) for row in rows] == [("shared", "1.0.0"), ("jira", "3.0.0"),
                                                  ("email", "1.0.0")]


def test_search_needs_a_query_and_an_index(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no pack index given"):
        commands.search("mail", [])
    path = write_index(tmp_path / "i.json", {})
    with pytest.raises(ConfigError, match="query is empty"):
        commands.search("  ", [str(path)])


def test_show_lists_fields_with_credentials_redacted(tmp_path: Path) -> None:
    path = write_index(tmp_path / "i.json", {"email": index_entry(
        "email", "https://bot:t0ken@example.org/email.git", "1.2.0",
        versions={"1.1.0": {}, "1.2.0": {}}, keywords=["mail", "smtp"],
        content={"actions": {"count": 4}, "sensors": {"count": 1}})})
    shown = dict(commands.show("email", [str(path)]))
    assert shown["repo_url"] == "https://***@example.org/email.git"
    assert shown["versions"] == "1.1.0, 1.2.0"
    assert shown["keywords"] == "mail, smtp"
    assert shown["content"] == "actions 4, sensors 1"
    assert "t0ken" not in repr(shown)


@pytest.mark.parametrize(("data", "message"), [
    ("{not json", "not valid JSON"),
    ('{"metadata": {}}', "must be a JSON object with a 'packs' mapping"),
    ('{"packs": {"x": []}}', r"packs.x: must be a mapping"),
    ('{"packs": {"x": {"repo_url": "u"}}}', r"packs.x: field 'version'"),
    ('{"packs": {"x": {"version": "1.0.0"}}}', r"packs.x: field 'repo_url'"),
    ('{"packs": {"x": {"version": "1", "repo_url": "u", "keywords": "k"}}}', "'keywords'"),
])
def test_bad_index_files(tmp_path: Path, data: str, message: str) -> None:
    path = tmp_path / "bad.json"
    path.write_text(data, encoding="utf-8")
    with pytest.raises(ConfigError, match=message) as err:
        load_index(str(path))
    assert str(err.value).startswith(f"pack index {path}")


def test_missing_index_file(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="cannot be read"):
        load_index(str(tmp_path / "missing.json"))


SECRET = "s3cret-9d4e"
BASIC = "Basic " + base64.b64encode(f"bot:{SECRET}".encode()).decode()
# A canned reply: status, headers, body. Status 0 drops the connection without an answer.
Reply = tuple[int, dict[str, str], bytes]
_GONE: Reply = (404, {}, b"")


def _body(*refs: str) -> bytes:
    return json.dumps({"packs": {ref: index_entry(ref, REPO.format(ref), "1.0.0")
                                 for ref in refs}}).encode()


class _Server(ThreadingHTTPServer):
    """Answers each path with its replies in turn (the last one repeats) and keeps every
    request it got: path, headers, and the whole text that came in."""

    def __init__(self, replies: dict[str, list[Reply]]) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.replies = replies
        self.seen: list[tuple[str, dict[str, str], str]] = []

    @property
    def port(self) -> int:
        return int(self.server_address[1])


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_GET(self) -> None:
        self.server.seen.append((self.path, dict(self.headers),
                                 self.requestline + "\n" + str(self.headers)))
        queue = self.server.replies.get(self.path, [_GONE])
        status, headers, body = queue.pop(0) if len(queue) > 1 else queue[0]
        if status == 0:
            self.close_connection = True
            return
        self.send_response(status)
        for name, value in {"Content-Length": str(len(body)), **headers}.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: the tests read what the server saw, not its log."""


@pytest.fixture
def serve() -> Iterator[Callable[..., _Server]]:
    """Starts servers on 127.0.0.1 (a free port each, https with ``tls``); stops them after
    the test."""
    running: list[tuple[_Server, threading.Thread]] = []

    def start(replies: dict[str, list[Reply]], tls: ssl.SSLContext | None = None) -> _Server:
        server = _Server(replies)
        if tls is not None:
            server.socket = tls.wrap_socket(server.socket, server_side=True)
        thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
        thread.start()
        running.append((server, thread))
        return server

    yield start
    for server, thread in running:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture
def quick_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(retry, "WAIT", 0.01)


def test_http_index_with_credentials_in_url(serve: Callable[..., _Server]) -> None:
    server = serve({"/index.json": [(200, {}, _body("email"))]})
    entries = load_index(f"http://bot:{SECRET}@127.0.0.1:{server.port}/index.json")
    assert entries["email"].index == f"http://***@127.0.0.1:{server.port}/index.json"
    assert [headers.get("Authorization") for _, headers, _ in server.seen] == [BASIC]


def test_a_redirect_to_another_host_does_not_take_the_credentials(
        serve: Callable[..., _Server]) -> None:
    # 127.0.0.1 and localhost are the same machine but different hosts to a client.
    other = serve({"/mirror/index.json": [(200, {}, _body("email"))]})
    first = serve({"/index.json": [
        (302, {"Location": f"http://localhost:{other.port}/mirror/index.json"}, b"")]})
    entries = load_index(f"http://bot:{SECRET}@127.0.0.1:{first.port}/index.json")
    assert list(entries) == ["email"]
    assert [headers.get("Authorization") for _, headers, _ in first.seen] == [BASIC]
    assert [path for path, _, _ in other.seen] == ["/mirror/index.json"]
    _, headers, text = other.seen[0]
    assert "Authorization" not in headers
    assert SECRET not in text
    assert BASIC.split()[1] not in text


def test_a_redirect_on_the_same_host_keeps_working(serve: Callable[..., _Server]) -> None:
    server = serve({"/old.json": [(301, {"Location": "/index.json"}, b"")],
                    "/index.json": [(200, {}, _body("email"))]})
    entries = load_index(f"http://bot:{SECRET}@127.0.0.1:{server.port}/old.json")
    assert list(entries) == ["email"]
    assert [(path, headers.get("Authorization")) for path, headers, _ in server.seen] == [
        ("/old.json", BASIC), ("/index.json", BASIC)]


@pytest.mark.usefixtures("quick_retries")
@pytest.mark.parametrize("hiccup", [(503, {}, b"busy"), (0, {}, b"")],
                         ids=["503", "dropped connection"])
def test_a_transient_failure_is_retried_and_logged(
        serve: Callable[..., _Server], capsys: pytest.CaptureFixture[str],
        hiccup: Reply) -> None:
    server = serve({"/index.json": [hiccup, (200, {}, _body("email"))]})
    entries = load_index(f"http://bot:{SECRET}@127.0.0.1:{server.port}/index.json")
    assert list(entries) == ["email"]
    assert len(server.seen) == 2
    err = capsys.readouterr().err
    assert f"fetching pack index http://***@127.0.0.1:{server.port}/index.json: " \
           "attempt 1 of 4 failed" in err
    assert "attempt 2" not in err
    assert SECRET not in err


@pytest.mark.usefixtures("quick_retries")
@pytest.mark.parametrize(("reply", "error", "said"), [
    (_GONE, SourceError, r"cannot be read \(HTTP 404 Not Found\); check the URL$"),
    ((401, {}, b""), SourceError, r"\(HTTP 401 Unauthorized\); check the credentials"),
    ((200, {}, b"<html>sign in</html>"), ConfigError, r"not valid JSON \(Expecting value"),
    ((200, {}, b'{"packs": "caf\xe9"}'), ConfigError, r"not valid JSON \('utf-8' codec"),
], ids=["404", "401", "not JSON", "not UTF-8"])
def test_a_bad_answer_is_one_line_and_not_retried(
        serve: Callable[..., _Server], capsys: pytest.CaptureFixture[str], reply: Reply,
        error: type[Exception], said: str) -> None:
    server = serve({"/index.json": [reply]})
    url = f"http://bot:{SECRET}@127.0.0.1:{server.port}/index.json"
    with pytest.raises(error, match=said) as raised:
        load_index(url)
    message = str(raised.value)
    assert message.startswith(f"pack index http://***@127.0.0.1:{server.port}/index.json: ")
    assert "\n" not in message
    assert SECRET not in message
    assert len(server.seen) == 1
    assert "retrying" not in capsys.readouterr().err


@pytest.mark.usefixtures("quick_retries")
def test_a_refused_connection_is_not_retried(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(SourceError, match=r"\(Connection refused\); check the URL") as err:
        load_index(f"http://bot:{SECRET}@127.0.0.1:{port}/index.json")
    assert SECRET not in str(err.value)
    assert "retrying" not in capsys.readouterr().err


@pytest.fixture
def own_ca(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[ssl.SSLContext]:
    """A server context whose self-signed certificate (for 127.0.0.1) is SSL_CERT_FILE's
    only CA; requests' own CA variables are unset, and the kept session is made anew."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "st2pkg test CA")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()),
                           critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
                key.public_key()), critical=False)
            .add_extension(x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
            .sign(key, hashes.SHA256()))
    pem = tmp_path / "ca.pem"
    pem.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    secret = tmp_path / "key.pem"
    secret.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                         serialization.PrivateFormat.PKCS8,
                                         serialization.NoEncryption()))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(pem, secret)
    for variable in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("SSL_CERT_FILE", str(pem))
    http.session.cache_clear()
    yield context
    http.session.cache_clear()


def test_https_index_trusts_ssl_cert_file(serve: Callable[..., _Server],
                                          own_ca: ssl.SSLContext) -> None:
    server = serve({"/index.json": [(200, {}, _body("email"))]}, tls=own_ca)
    entries = load_index(f"https://bot:{SECRET}@127.0.0.1:{server.port}/index.json")
    assert list(entries) == ["email"]
    assert [headers.get("Authorization") for _, headers, _ in server.seen] == [BASIC]


@pytest.mark.usefixtures("quick_retries")
def test_https_index_without_its_ca_is_one_line_and_not_retried(
        serve: Callable[..., _Server], own_ca: ssl.SSLContext,
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv("SSL_CERT_FILE")
    server = serve({"/index.json": [(200, {}, _body("email"))]}, tls=own_ca)
    with pytest.raises(SourceError, match=r"certificate verify failed.*check the CA bundle"
                       ) as err:
        load_index(f"https://bot:{SECRET}@127.0.0.1:{server.port}/index.json")
    assert "\n" not in str(err.value)
    assert SECRET not in str(err.value)
    assert server.seen == []
    assert "retrying" not in capsys.readouterr().err


def test_an_exchange_shaped_index_parses_and_shows_every_field(tmp_path: Path) -> None:
    # Shaped like StackStorm-Exchange's v1/index.json: sorted keys, content resources,
    # versions newest first, null email/contributors, a pack keyed without its own ref.
    path = tmp_path / "index.json"
    path.write_text(json.dumps({"metadata": {"generated_ts": 1700000000, "hash": "ab" * 16},
                                "packs": {"pagerduty": {
        "author": "Fixture Author",
        "content": {"actions": {"count": 2, "resources": ["incident.get", "user.get"]},
                    "aliases": {"count": 1, "resources": ["find_incidents"]}},
        "contributors": None, "description": "PagerDuty integration", "email": None,
        "name": "pagerduty", "python_versions": ["3"],
        "repo_url": "StackStorm-Exchange/stackstorm-pagerduty", "stackstorm_version": ">=3.0.0",
        "version": "2.0.0", "versions": ["2.0.0", "1.0.2", "0.1.0"]}}}, sort_keys=True))
    entry = Index([str(path)]).get("pagerduty")
    assert (entry.ref, entry.version, entry.versions) == ("pagerduty", "2.0.0",
                                                          ("2.0.0", "1.0.2", "0.1.0"))
    assert entry.repo_url == "https://github.com/StackStorm-Exchange/stackstorm-pagerduty"
    assert entry.content == (("actions", 2), ("aliases", 1))
    shown = commands.show("pagerduty", [str(path)])
    assert [key for key, _ in shown] == [
        "author", "content", "contributors", "description", "email", "name",
        "python_versions", "repo_url", "stackstorm_version", "version", "versions", "index"]
    assert dict(shown)["content"] == "actions 2, aliases 1"
    assert dict(shown)["email"] == ""
    assert [row[0] for row in commands.search("actions", [str(path)])] == ["pagerduty"]


def _entry_json(**extra: str) -> str:
    fields = {"name": '"email"', "version": '"1.0.0"', "repo_url": '"x/email"', **extra}
    return '{"packs": {"email": {' + ", ".join(f'"{k}": {v}' for k, v in fields.items()) + "}}}"


@pytest.mark.parametrize(("data", "message"), [
    ("[" * 100_000 + "]" * 100_000, "nested too deeply to read"),
    (_entry_json(extra="[" * 100_000 + "]" * 100_000), "nested too deeply to read"),
    # Decodable, yet far deeper than any index entry: printing or searching it would recurse.
    (_entry_json(extra="[" * 500 + "]" * 500), r"packs\.email: nested too deeply \(more than"),
    (_entry_json(version='"' + "1" * 2_000_000 + '"'),
     r"packs\.email: field 'version' is not a semver version X\.Y\.Z \('1{40}\.\.\.\(cut\)'\)"),
    (_entry_json(version='"v1.0"'), r"packs\.email: field 'version' is not a semver version"),
    (_entry_json(extra="1" * 5000), r"not valid JSON \(Exceeds the limit \(4300 digits\)"),
])
@pytest.mark.parametrize("command", ["search", "show"])
def test_an_index_that_is_no_index_data_is_one_short_line(
        tmp_path: Path, data: str, message: str, command: str) -> None:
    path = tmp_path / "i.json"
    path.write_text(data, encoding="utf-8")
    with pytest.raises(ConfigError, match=message) as err:
        getattr(commands, command)("email", [str(path)])
    said = str(err.value)
    assert said.startswith(f"pack index {path}: ")
    assert "\n" not in said
    assert len(said) < 300
