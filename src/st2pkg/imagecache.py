"""One caching rule for every image st2pkg makes: an image is reused when its tag exists and
its ``st2pkg.inputs`` label is the hash of everything it was made from; otherwise it is made
again and labelled so. Node, service and base images also carry that hash in their tag (so
two input sets never share a tag); the label decides either way."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Protocol

INPUTS_LABEL = "st2pkg.inputs"


class LabelledImages(Protocol):
    """What the rule asks of an engine."""

    def image_id(self, ref: str) -> str | None: ...

    def image_labels(self, ref: str) -> dict[str, str]: ...


def content_hash(*parts: str | bytes) -> str:
    """A short, stable hash of ordered inputs."""
    digest = hashlib.sha256()
    for part in parts:
        data = part.encode() if isinstance(part, str) else part
        digest.update(len(data).to_bytes(8, "big") + data)
    return digest.hexdigest()[:16]


def context_hash(context: Path) -> str:
    """Hash of every file (path, mode bits, content) under a build context."""
    parts: list[str | bytes] = []
    for path in sorted(p for p in context.rglob("*") if p.is_file()):
        parts += [str(path.relative_to(context)), oct(path.stat().st_mode & 0o111),
                  path.read_bytes()]
    return content_hash(*parts)


def is_current(engine: LabelledImages, ref: str, inputs: str) -> bool:
    """Whether ``ref`` exists and was made from ``inputs``."""
    return engine.image_id(ref) is not None and \
        engine.image_labels(ref).get(INPUTS_LABEL) == inputs


def labels(inputs: str, **more: str) -> dict[str, str]:
    """The labels an image made from ``inputs`` carries (``more`` as given)."""
    return {INPUTS_LABEL: inputs, **more}
