"""for_each: one failure never stops or hides the others, at most ``jobs`` run at once, and
nothing starts once the run is cancelled (interrupts themselves: test_runner.py)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

from st2pkg.errors import StageError
from st2pkg.runner import CANCEL, Cancelled, check_cancel, for_each


@pytest.fixture(autouse=True)
def fresh_run() -> None:
    """A run starts uncancelled (interruptible() clears it on entry; an earlier interrupt in
    this process leaves it set)."""
    CANCEL.clear()


@pytest.fixture
def cancelled() -> Iterator[None]:
    CANCEL.set()
    try:
        yield
    finally:
        CANCEL.clear()


def test_every_distro_is_reported_in_order_whatever_fails() -> None:
    def one(name: str) -> str:
        if name == "jammy":
            raise StageError("jammy broke")
        time.sleep(0.05 if name == "bullseye" else 0)
        return name.upper()

    outcomes = for_each(["bullseye", "jammy", "trixie"], 3, one)
    assert [(o.distro, o.value, o.ok) for o in outcomes] == [
        ("bullseye", "BULLSEYE", True), ("jammy", None, False), ("trixie", "TRIXIE", True)]
    assert str(outcomes[1].error) == "jammy broke"


def test_at_most_jobs_at_once() -> None:
    lock = threading.Lock()
    now, most = 0, 0

    def one(name: str) -> None:
        nonlocal now, most
        with lock:
            now += 1
            most = max(most, now)
        time.sleep(0.02)
        with lock:
            now -= 1

    for_each([f"d{i}" for i in range(6)], 2, one)
    assert most == 2


@pytest.mark.usefixtures("cancelled")
def test_nothing_starts_once_cancelled() -> None:
    started: list[str] = []
    outcomes = for_each(["bookworm", "trixie"], 2, started.append)
    assert started == []
    assert all(isinstance(o.error, Cancelled) for o in outcomes)
    with pytest.raises(Cancelled):
        check_cancel()
