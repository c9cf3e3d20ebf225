from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest
from tests.fixtures.packs import index_entry, write_index

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


class _Handler(BaseHTTPRequestHandler):
    body = b""
    seen: ClassVar[list[str | None]] = []

    def do_GET(self) -> None:
        self.seen.append(self.headers.get("Authorization"))
        ok = self.path == "/index.json"
        self.send_response(200 if ok else 404)
        self.end_headers()
        if ok:
            self.wfile.write(self.body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def http_index() -> Iterator[str]:
    _Handler.body = json.dumps({"packs": {
        "email": index_entry("email", REPO.format("email"), "1.0.0")}}).encode()
    _Handler.seen = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def test_http_index_with_credentials_in_url(http_index: str) -> None:
    entries = load_index(f"http://bot:t0ken@{http_index}/index.json")
    assert entries["email"].index == f"http://***@{http_index}/index.json"
    assert _Handler.seen == ["Basic " + base64.b64encode(b"bot:t0ken").decode()]


def test_http_index_errors_hide_credentials(http_index: str) -> None:
    with pytest.raises(SourceError, match="cannot be read") as err:
        load_index(f"http://bot:t0ken@{http_index}/missing.json")
    assert "t0ken" not in str(err.value)


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
