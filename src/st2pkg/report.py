"""Progress and logs: per-distro, per-stage steps with timings, one log file per step."""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from .redact import redact_text


@dataclass
class StepLog:
    """An open log file for one (distro, stage); lines are redacted before writing."""

    path: Path
    secrets: tuple[str, ...] = ()
    _file: TextIO | None = None

    def __call__(self, line: str) -> None:
        if self._file is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._file = self.path.open("a", encoding="utf-8")
        self._file.write(redact_text(line, self.secrets).rstrip("\n") + "\n")
        self._file.flush()

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
class Reporter:
    """Prints `[distro] stage: ...` lines and keeps each step's result for the summary."""

    output: Path
    stream: TextIO = field(default_factory=lambda: sys.stderr)
    results: list[StepResult] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def log_path(self, distro: str, stage: str) -> Path:
        """Where the log of ``stage`` for ``distro`` is written."""
        return self.output / distro / "logs" / f"{stage}.log"

    def say(self, distro: str, stage: str, message: str) -> None:
        """One plain progress line."""
        with self._lock:
            print(f"[{distro}] {stage}: {redact_text(message)}", file=self.stream, flush=True)

    @contextmanager
    def step(self, distro: str, stage: str) -> Iterator[StepLog]:
        """Time a step; its log is handed to the body; failures are recorded and re-raised."""
        log = StepLog(self.log_path(distro, stage))
        started = time.monotonic()
        self.say(distro, stage, "started")
        try:
            yield log
        except BaseException as err:
            seconds = time.monotonic() - started
            log(f"FAILED: {err}")
            self._record(StepResult(distro, stage, False, seconds, str(err), log.path))
            self.say(distro, stage, f"FAILED after {seconds:.1f}s (log: {log.path})")
            raise
        finally:
            log.close()
        seconds = time.monotonic() - started
        self._record(StepResult(distro, stage, True, seconds, "", log.path))
        self.say(distro, stage, f"done in {seconds:.1f}s")

    def _record(self, result: StepResult) -> None:
        with self._lock:
            self.results.append(result)
