"""What the stages ask of a container engine. ``containers.Docker`` is the real one; unit
tests hand the stages a small in-memory engine with the same methods instead."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any, Protocol

from .containers import FileEntry


class Engine(Protocol):
    """The images and containers of one engine, as the stages use them."""

    # images
    def image_id(self, ref: str) -> str | None:
        """The local image id of ``ref``, or None when it is not present."""
        ...

    def image_labels(self, ref: str) -> dict[str, str]:
        """The labels of a local image ({} when it has none or is absent)."""
        ...

    def pull(self, ref: str) -> str:
        """Pull ``ref``; UnavailableError with the reason when it cannot be had."""
        ...

    def can_pull(self, ref: str) -> bool:
        """Whether the registry of ``ref`` answers for it (no pull)."""
        ...

    def tag(self, ref: str, new_ref: str) -> None:
        """Point ``new_ref`` (repository:tag) at the local image ``ref``."""
        ...

    def import_rootfs(self, tar_path: Path, ref: str, labels: Mapping[str, str]) -> str:
        """Import a root file system tarball as image ``ref``, with ``labels``."""
        ...

    def build(self, context: Path, dockerfile: str, tag: str, buildargs: Mapping[str, str],
              labels: Mapping[str, str], log: Callable[[str], None]) -> str:
        """Build an image, its output lines to ``log``; StageError on failure."""
        ...

    def remove_image(self, ref: str) -> None:
        """Remove the tag ``ref`` (and the image, if nothing else uses it)."""
        ...

    def remove_images(self, repository_prefix: str) -> list[str]:
        """Remove every image whose repository starts with ``repository_prefix``."""
        ...

    # containers
    def containers(self, labels: Mapping[str, str] | Iterable[str]) -> list[Any]:
        """Containers (running or not) carrying all ``labels`` (key=value or bare keys)."""
        ...

    def run_once(self, image: str, argv: list[str], volumes: Mapping[str, Mapping[str, str]],
                 env: Mapping[str, str], user: str,
                 labels: Mapping[str, str]) -> tuple[int, str]:
        """Run ``argv`` in a throwaway container; (exit code, combined output)."""
        ...

    def put_files(self, name: str, root: str, files: Mapping[str, FileEntry]) -> None:
        """Copy files (paths relative to ``root``) into a created or running container."""
        ...

    def exec(self, name: str, argv: list[str], user: str = "root") -> tuple[int, str]:
        """Run ``argv`` in a running container; (exit code, combined output)."""
        ...

    def published_port(self, name: str, port: int = 22) -> int:
        """The 127.0.0.1 host port published for the container's ``port``/tcp."""
        ...

    def state(self, name: str) -> tuple[str, str | None]:
        """(status, health) of a container; health is None without a healthcheck."""
        ...

    def logs(self, name: str, tail: int = 50) -> str:
        """The last ``tail`` lines of a container's output."""
        ...

    def remove_labelled(self, label: str, patience: float = 60.0) -> dict[str, int]:
        """Force-remove containers, networks and volumes carrying ``label``; counts."""
        ...
