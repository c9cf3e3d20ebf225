"""Whether the Docker engine (or a registry behind it) is having a hiccup or is gone: which
failures are worth another try, and the one message for an engine that stopped answering."""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from typing import ParamSpec, TypeVar

import docker
import docker.errors
import requests

from .errors import UnavailableError

# The engine answers 500 for these too, but they mean no registry can be reached from here
# (an offline machine): trying again only delays the fallback to bootstrapped images.
_UNREACHABLE = ("lookup ", "no such host", "network is unreachable", "connection refused")


def transient(error: BaseException) -> bool:
    """A registry or engine hiccup (5xx, dropped connection), not a missing image or a
    registry this machine cannot reach at all."""
    if isinstance(error, docker.errors.APIError):
        said = str(error.explanation or error).lower()
        return (error.status_code is not None and error.status_code >= 500
                and not any(word in said for word in _UNREACHABLE))
    return isinstance(error, requests.exceptions.ConnectionError)


P = ParamSpec("P")
R = TypeVar("R")


def engine_call(method: Callable[P, R]) -> Callable[P, R]:
    """An engine that stops answering mid-run (restarted, gone, its socket cut) becomes one
    UnavailableError that says so, instead of a raw connection error."""
    @functools.wraps(method)
    def call(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return method(*args, **kwargs)
        except requests.exceptions.ConnectionError as err:
            raise UnavailableError(engine_gone(f": {err}")) from err
    return call


def engine_gone(detail: str = "") -> str:
    """What to say when the engine stopped answering mid-run, and what to do."""
    where = os.environ.get("DOCKER_HOST") or "its default socket"
    return (f"the Docker engine ({where}) stopped answering{detail}. What this run made there "
            "is left as it was; once the engine answers again, `st2pkg clean` removes it")
