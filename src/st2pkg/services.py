"""The service containers (RabbitMQ, PostgreSQL, Redis, MongoDB) a test node talks to:
which image serves each on this machine, and why."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import yaml

from .config import Options
from .distros import Catalog
from .engine import Engine
from .errors import UnavailableError
from .images import Images
from .paths import DISTROS_DIR
from .report import Log

SERVICES_FILE = DISTROS_DIR / "services.yml"
MONGODB = "mongodb"


@dataclass(frozen=True)
class ServiceImage:
    """The image serving one service, or None with the reason it is unavailable."""

    name: str
    ref: str | None
    how: str

    @property
    def available(self) -> bool:
        return self.ref is not None


def _official(docker: Engine, ref: str, log: Log) -> tuple[str | None, str]:
    if docker.image_id(ref):
        return ref, f"official image {ref} (present locally)"
    try:
        docker.pull(ref)
        return ref, f"official image {ref} (pulled)"
    except UnavailableError as err:
        log(str(err))
        return None, f"official image {ref} cannot be pulled"


def _declared() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(SERVICES_FILE.read_text(encoding="utf-8"))
    return data


def names() -> tuple[str, ...]:
    """Every service a run can have, in services.yml's order, MongoDB last."""
    return (*_declared()["services"], MONGODB)


def resolve(docker: Engine, images: Images, catalog: Catalog, opts: Options,
            log: Log) -> dict[str, ServiceImage]:
    """Pick or build an image for every service; MongoDB may come back unavailable."""
    data = _declared()
    result: dict[str, ServiceImage] = {}
    base = None
    for name, entry in data["services"].items():
        ref, how = _official(docker, str(entry["image"]), log)
        if ref is None:
            if base is None:
                base = images.base(catalog.get(str(data["debian_base"])), log)
            made = images.service(name, base, log)
            ref, how = made.ref, f"{made.ref} from Debian's packages: {made.how}; {how}"
        result[name] = ServiceImage(name, ref, how)
    mongo_ref, mongo_how = _official(docker, opts.mongodb_image, log)
    if mongo_ref is None:
        mongo_how += "; MongoDB has no Debian package, so Mongo checks will be skipped"
    result[MONGODB] = ServiceImage(MONGODB, mongo_ref, mongo_how)
    return result
