"""Bounded retries with backoff for what crosses a network (git fetches, registry pulls): a
transient failure is tried again, each retry is logged, a permanent one is raised at once."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TypeVar

from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential,
)

T = TypeVar("T")
ATTEMPTS = 4
# The first pause, in seconds; each next one is twice as long.
WAIT = 2.0


def _stderr(line: str) -> None:
    print(line, file=sys.stderr)


def retrying(call: Callable[[], T], *, what: str, transient: Callable[[BaseException], bool],
             log: Callable[[str], None] = _stderr, attempts: int = ATTEMPTS) -> T:
    """``call()``, tried up to ``attempts`` times while it fails in a ``transient`` way,
    waiting ``WAIT`` seconds, then twice that, and so on (at most 30 s)."""

    def note(state: RetryCallState) -> None:
        error = state.outcome.exception() if state.outcome else None
        said = str(error).splitlines()[0][:200] if error else "no result"
        pause = state.next_action.sleep if state.next_action else 0
        log(f"{what}: attempt {state.attempt_number} of {attempts} failed ({said}); "
            f"retrying in {pause:.0f}s")

    for attempt in Retrying(stop=stop_after_attempt(attempts),
                            wait=wait_exponential(multiplier=WAIT, max=30),
                            retry=retry_if_exception(transient), before_sleep=note,
                            reraise=True):
        with attempt:
            return call()
    raise AssertionError("unreachable: tenacity reraises the last error")
