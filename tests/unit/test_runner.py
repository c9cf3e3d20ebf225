"""Interrupts: every worker is waited for, and the last sweep's result is what the user hears."""

from __future__ import annotations

import os
import signal
import threading

import pytest

from st2pkg.runner import CANCEL, Cancelled, for_each, interruptible


def test_a_failing_first_sweep_still_waits_for_workers_and_sweeps_again() -> None:
    calls: list[str] = []
    worker_started, swept = threading.Event(), threading.Event()

    def slow(distro: str) -> str:
        worker_started.set()
        CANCEL.wait(60)
        swept.wait(60)  # still busy while the first sweep runs, as a compose call would be
        calls.append(f"worker {distro} stopped")
        return distro

    def sweep() -> None:
        calls.append("sweep")
        swept.set()
        if calls.count("sweep") == 1:
            raise RuntimeError("409 removal already in progress")

    def terminate_soon() -> None:
        worker_started.wait(60)
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=terminate_soon).start()
    with pytest.raises(Cancelled, match="everything this run started was removed"), \
            interruptible(sweep):
        for_each(["bookworm"], 1, slow)
    assert calls == ["sweep", "worker bookworm stopped", "sweep"]


def test_a_failing_last_sweep_is_reported_not_hidden() -> None:
    def sweep() -> None:
        raise RuntimeError("network busy")

    with pytest.raises(Cancelled, match="cleaning up failed: network busy"), \
            interruptible(sweep):
        raise KeyboardInterrupt
