from __future__ import annotations

from pathlib import Path

import pytest
from tests.fixtures.packs import index_entry, write_index

from st2pkg.packs import app


def test_show_bounds_every_cell_to_one_short_line(tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    # Index data is not ours: a 2 MB description with newlines and terminal escapes prints
    # as one line of at most CELL characters, marked as cut.
    index = write_index(tmp_path / "i.json", {"email": index_entry(
        "email", "https://example.org/email.git", "1.0.0",
        description="line one\nline two\x1b[31m" + "x" * 2_000_000)})
    config = tmp_path / "st2pkg.yml"
    config.write_text("cache_dir: cache\n", encoding="utf-8")
    app.show(str(config), "email", [str(index)])
    out = capsys.readouterr().out
    rows = {line.split()[0]: line for line in out.splitlines()}
    assert len(out) < 2_000
    assert "\x1b" not in out
    description = rows["description"].split(None, 1)[1]
    assert description.startswith("line one line two [31mxxx")
    assert description.endswith("...(cut)")
    assert len(description) == app.CELL + len("...(cut)")
    assert rows["version"].split() == ["version", "1.0.0"]
