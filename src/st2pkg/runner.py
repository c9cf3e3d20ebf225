"""Run one function per distro in parallel (bounded), never letting one failure stop or hide
the others, and turn Ctrl-C / SIGTERM into a cancellation every worker sees."""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from types import FrameType
from typing import Generic, TypeVar

from .errors import St2PkgError

T = TypeVar("T")
CANCEL = threading.Event()


class _Busy:
    """How many workers are inside a distro's function, so that an interrupt can wait for
    every one of them (a pool's own thread list misses a worker whose submit was cut short)."""

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._count = 0

    @contextmanager
    def one(self) -> Iterator[None]:
        with self._changed:
            self._count += 1
        try:
            yield
        finally:
            with self._changed:
                self._count -= 1
                self._changed.notify_all()

    def wait_idle(self) -> None:
        with self._changed:
            self._changed.wait_for(lambda: self._count == 0)


_BUSY = _Busy()


class Cancelled(St2PkgError):
    """The run was interrupted (Ctrl-C or SIGTERM)."""

    exit_code = 130


def cancelling() -> bool:
    """True once the run was interrupted: its sweep removes every node, none is kept."""
    return CANCEL.is_set()


def check_cancel() -> None:
    """Raise Cancelled when the run was interrupted; long waits call this."""
    if cancelling():
        raise Cancelled("interrupted")


@dataclass(frozen=True)
class Outcome(Generic[T]):
    """One distro's result or error."""

    distro: str
    value: T | None
    error: BaseException | None

    @property
    def ok(self) -> bool:
        return self.error is None


def for_each(distros: Sequence[str], jobs: int, fn: Callable[[str], T]) -> list[Outcome[T]]:
    """Call ``fn(distro)`` for every distro, at most ``jobs`` at once, in input order."""
    def guarded(distro: str) -> Outcome[T]:
        # Counted before the cancel check: one that starts after an interrupt makes nothing.
        with _BUSY.one():
            try:
                check_cancel()
                return Outcome(distro, fn(distro), None)
            except Exception as err:  # recorded per distro; the caller reports every one
                return Outcome(distro, None, err)

    pool = ThreadPoolExecutor(max_workers=max(1, min(jobs, len(distros))))
    try:
        futures = [pool.submit(guarded, distro) for distro in distros]
        results = [future.result() for future in futures]
    except BaseException:
        # interruptible() waits for the running workers before its last sweep.
        CANCEL.set()
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown()
    return results


@contextmanager
def interruptible(on_interrupt: Callable[[], None]) -> Iterator[None]:
    """Treat SIGTERM like Ctrl-C; on either, cancel workers and call ``on_interrupt``."""
    def on_term(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, on_term)
    CANCEL.clear()
    try:
        yield
    except KeyboardInterrupt:
        CANCEL.set()
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        # Workers may still be making things: the sweep after they stop must succeed.
        with suppress(Exception):
            on_interrupt()
        # Workers notice CANCEL at their next wait; sweep again for what they made meanwhile.
        _BUSY.wait_idle()
        try:
            on_interrupt()
        except Exception as err:
            raise Cancelled(f"interrupted, and cleaning up failed: {err}") from None
        raise Cancelled("interrupted: everything this run started was removed") from None
    finally:
        signal.signal(signal.SIGTERM, previous)
