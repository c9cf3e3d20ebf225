from __future__ import annotations

import io
import os
import pty
import time
from pathlib import Path

import pytest

from st2pkg.report import Reporter


def test_plain_lines_are_prefixed_and_logs_kept(tmp_path: Path) -> None:
    out = io.StringIO()
    reporter = Reporter(tmp_path, stream=out, mode="plain")
    with reporter.step("bookworm", "build-st2") as log:
        log("compiling https://user:pw@example.org/x")
    text = out.getvalue()
    assert "[bookworm] build-st2: started" in text
    assert "[bookworm] build-st2: done in" in text
    logged = (tmp_path / "bookworm" / "logs" / "build-st2.log").read_text()
    assert "https://***@example.org/x" in logged
    assert reporter.results[0].ok


def test_github_mode_annotates_failures_with_the_log(tmp_path: Path) -> None:
    out = io.StringIO()
    reporter = Reporter(tmp_path, stream=out, mode="github")

    def failing_step() -> None:
        with reporter.step("trixie", "build-st2client") as log:
            log("dpkg-buildpackage: error: boom")
            raise RuntimeError("build-package failed")

    with pytest.raises(RuntimeError):
        failing_step()
    text = out.getvalue()
    assert "::error title=trixie build-st2client failed::build-package failed" in text
    assert "::group::trixie build-st2client log" in text
    assert "dpkg-buildpackage: error: boom" in text
    assert text.rstrip().endswith("::endgroup::") or "::endgroup::" in text
    assert not reporter.results[0].ok


def test_table_on_a_terminal_shows_distro_stage_state(tmp_path: Path) -> None:
    master, slave = pty.openpty()
    stream = os.fdopen(slave, "w")
    reporter = Reporter(tmp_path, stream=stream, mode="table")
    with reporter.step("bookworm", "wheels-st2") as log:
        log("Saved /build/wheelhouse/pika-1.3.2-py3-none-any.whl")
        time.sleep(0.7)
    reporter.close()
    stream.close()
    seen = b""
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:
            break
        if not chunk:
            break
        seen += chunk
    os.close(master)
    text = seen.decode(errors="replace")
    assert "distro" in text
    assert "stage" in text
    assert "elapsed" in text
    assert "wheels-st2" in text
    assert "pika-1.3.2" in text  # the running step's latest line
    assert "\x1b[" in text  # redrawn in place


@pytest.mark.parametrize(("level", "shown"), [
    (0, []),
    (1, ["$ dpkg-buildpackage -us -uc"]),
    (2, ["$ dpkg-buildpackage -us -uc", "dpkg-source: building st2", "token https://***@h/x"]),
])
def test_debug_level_echoes_remote_commands_then_their_output(
        tmp_path: Path, level: int, shown: list[str]) -> None:
    out = io.StringIO()
    reporter = Reporter(tmp_path, stream=out, mode="plain", debug_level=level)
    with reporter.step("bookworm", "build-st2") as log:
        log("$ dpkg-buildpackage -us -uc")
        log("dpkg-source: building st2")
        log("token https://u:pw@h/x")
    echoed = [line.split(": ", 1)[1] for line in out.getvalue().splitlines()
              if line.startswith("[bookworm] build-st2: ")
              and not line.endswith(("started",)) and "done in" not in line]
    assert echoed == shown
    assert "pw@" not in out.getvalue()


def test_notes_are_redacted_and_printed_as_given(tmp_path: Path) -> None:
    out = io.StringIO()
    Reporter(tmp_path, stream=out, mode="plain").note("source: https://u:pw@h/st2 master")
    assert out.getvalue() == "source: https://***@h/st2 master\n"
