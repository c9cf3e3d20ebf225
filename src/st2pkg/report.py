"""Progress and logs: per-distro, per-stage steps with timings, one log file per step.

Three ways to show progress, picked from where output goes: a live table (distro x stage,
state, elapsed, the step's latest line) on a terminal; plain `[distro] stage: ...` lines when
piped; under GitHub Actions plain lines plus an error annotation and a collapsible group
holding the log of each failed step.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, TextIO

from .redact import redact_text

Mode = Literal["table", "plain", "github"]
REDRAW_SECONDS = 0.5
# How a step log shows a command run on a node.
COMMAND_PREFIX = "$ "
# Where a stage writes its log lines (a StepLog, or any line sink).
Log = Callable[[str], None]


def pick_mode(stream: TextIO) -> Mode:
    """github under GitHub Actions, table on an interactive terminal, else plain."""
    if os.environ.get("GITHUB_ACTIONS") == "true":
        return "github"
    if stream.isatty() and os.environ.get("TERM") != "dumb" and not os.environ.get("CI"):
        return "table"
    return "plain"


@dataclass
class StepLog:
    """An open log file for one (distro, stage); lines are redacted before writing. With an
    ``echo``, remote commands (lines starting "$ ") are shown too; with ``echo_all``, every
    line (debug_level 1 and 2)."""

    path: Path
    echo: Callable[[str], None] | None = None
    echo_all: bool = False
    last: str = ""
    _file: TextIO | None = None

    def __call__(self, line: str) -> None:
        if self._file is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._file = self.path.open("a", encoding="utf-8")
        text = redact_text(line).rstrip("\n")
        self._file.write(text + "\n")
        self._file.flush()
        if text.strip():
            self.last = text.strip()
        if self.echo is not None and (self.echo_all or text.startswith(COMMAND_PREFIX)):
            self.echo(text)

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


@dataclass
class StepResult:
    """What one step ended as."""

    distro: str
    stage: str
    ok: bool
    seconds: float
    detail: str
    log: Path


@dataclass
class _Live:
    stage: str
    started: float
    log: StepLog
    state: str = "running"
    ended: float | None = None


@dataclass
class Reporter:
    """Reports steps as they start and end and keeps each step's result for the summary."""

    output: Path
    stream: TextIO = field(default_factory=lambda: sys.stderr)
    mode: Mode | None = None
    # 0: progress only; 1: also each remote command; 2: also every line of their output.
    debug_level: int = 0
    results: list[StepResult] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _live: dict[str, _Live] = field(default_factory=dict)
    _drawn: int = 0
    _painter: threading.Thread | None = None

    def __post_init__(self) -> None:
        if self.mode is None:
            self.mode = pick_mode(self.stream)

    def log_path(self, distro: str, stage: str) -> Path:
        """Where the log of ``stage`` for ``distro`` is written."""
        return self.output / distro / "logs" / f"{stage}.log"

    def say(self, distro: str, stage: str, message: str) -> None:
        """One progress line (printed above the table on a terminal)."""
        self.note(f"[{distro}] {stage}: {message}")

    def note(self, line: str) -> None:
        """One line of the run's own, redacted (printed above the table on a terminal)."""
        with self._lock:
            self._clear()
            print(redact_text(line), file=self.stream, flush=True)
            self._draw()

    @contextmanager
    def step(self, distro: str, stage: str) -> Iterator[StepLog]:
        """Time a step; its log is handed to the body; failures are recorded and re-raised."""
        echo = (lambda line: self.say(distro, stage, line)) if self.debug_level else None
        log = StepLog(self.log_path(distro, stage), echo, self.debug_level >= 2)
        started = time.monotonic()
        with self._lock:
            self._live[distro] = _Live(stage, started, log)
        self._start_painter()
        if self.mode != "table":
            self.say(distro, stage, "started")
        try:
            yield log
        except BaseException as err:
            seconds = time.monotonic() - started
            log(f"FAILED: {err}")
            log.close()
            self._finish(distro, StepResult(distro, stage, False, seconds, str(err), log.path))
            self.say(distro, stage, f"FAILED after {seconds:.1f}s (log: {log.path})")
            if self.mode == "github":
                self._annotate(distro, stage, str(err), log.path)
            raise
        log.close()
        seconds = time.monotonic() - started
        self._finish(distro, StepResult(distro, stage, True, seconds, "", log.path))
        self.say(distro, stage, f"done in {seconds:.1f}s")

    def close(self) -> None:
        """Stop redrawing and leave the final table on screen."""
        with self._lock:
            self._clear()
            self._live.clear()
            self._painter = None

    def _finish(self, distro: str, result: StepResult) -> None:
        with self._lock:
            self.results.append(result)
            live = self._live.get(distro)
            if live is not None:
                live.state, live.ended = ("done" if result.ok else "FAILED"), time.monotonic()

    def _annotate(self, distro: str, stage: str, message: str, log: Path) -> None:
        one_line = redact_text(message).replace("\n", " ").replace("%", "%25")
        with self._lock:
            print(f"::error title={distro} {stage} failed::{one_line} (log: {log})",
                  file=self.stream)
            print(f"::group::{distro} {stage} log", file=self.stream)
            try:
                print(log.read_text(encoding="utf-8", errors="replace")[-20000:],
                      file=self.stream)
            finally:
                print("::endgroup::", file=self.stream, flush=True)

    def _start_painter(self) -> None:
        if self.mode != "table" or self._painter is not None:
            return
        self._painter = threading.Thread(target=self._paint, daemon=True)
        self._painter.start()

    def _paint(self) -> None:
        while self._painter is not None:
            with self._lock:
                self._clear()
                self._draw()
            time.sleep(REDRAW_SECONDS)

    def _clear(self) -> None:
        if self.mode == "table" and self._drawn:
            self.stream.write(f"\x1b[{self._drawn}F\x1b[J")
            self._drawn = 0

    def _draw(self) -> None:
        if self.mode != "table" or not self._live:
            return
        now = time.monotonic()
        columns = os.get_terminal_size(self.stream.fileno()).columns if self.stream.isatty() \
            else 0
        width = min(columns or 120, 200)
        lines = [f"{'distro':<10} {'stage':<22} {'state':<8} {'elapsed':>7}  latest"]
        for distro, live in sorted(self._live.items()):
            elapsed = (live.ended or now) - live.started
            row = (f"{distro:<10} {live.stage:<22} {live.state:<8} {elapsed:>6.0f}s  "
                   f"{live.log.last if live.state == 'running' else ''}")
            lines.append(row[:width - 1])
        self.stream.write("\n".join(lines) + "\n")
        self.stream.flush()
        self._drawn = len(lines)
