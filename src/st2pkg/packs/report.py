"""What a pack image holds, as labels on it and as a JSON report written next to it.

The report is also stored whole in one label, so a reused image (inputs unchanged) yields
the same report without rebuilding anything.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .. import imagecache
from .resolve import ResolvedPack

REPORT_LABEL = "st2pkg.packs.report"


def pack_report(pack: ResolvedPack, distributions: Sequence[str]) -> dict[str, Any]:
    """One pack's entry: ``source`` is already redacted by the resolver."""
    return {"ref": pack.ref, "name": pack.name, "version": pack.version,
            "source": pack.source, "commit": pack.commit, "wanted": pack.wanted,
            "requested_by": pack.requested_by, "distributions": list(distributions)}


def labels(base: str, packs: Sequence[dict[str, Any]], inputs: str) -> dict[str, str]:
    """Image labels: the base, the inputs hash, the whole report, and per pack its name,
    version, source, commit and installed distributions (``name==version``, comma-joined)."""
    report = {"base": base, "packs": sorted(packs, key=lambda p: str(p["ref"]))}
    out = imagecache.labels(inputs, **{"st2pkg.packs.base": base,
                                       REPORT_LABEL: json.dumps(report, sort_keys=True)})
    for pack in packs:
        prefix = f"st2pkg.pack.{pack['ref']}"
        out |= {f"{prefix}.name": pack["name"], f"{prefix}.version": pack["version"],
                f"{prefix}.source": pack["source"], f"{prefix}.commit": pack["commit"],
                f"{prefix}.distributions": ",".join(pack["distributions"])}
    return out


def report_path(reports: Path, image: str) -> Path:
    """``<reports>/<image with / and : as _>.json``."""
    return reports / (re.sub(r"[/:]", "_", image) + ".json")


def write_report(reports: Path, image: str, label: str) -> Path:
    """Write the report stored in ``label`` for ``image``, atomically; returns its path."""
    data = {"image": image, **json.loads(label)}
    dest = report_path(reports, image)
    reports.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=reports, prefix=".tmp-", suffix=".json")
    os.fchmod(fd, 0o644)  # mkstemp's 0600 would hide a report that holds no secrets
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(data, handle, indent=2, sort_keys=True)
        handle.write("\n")
    os.replace(tmp, dest)
    return dest
