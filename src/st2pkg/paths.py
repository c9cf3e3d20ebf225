"""Where the repository's data lives, computed once (the library sits at src/st2pkg/)."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DISTROS_DIR = ROOT / "distros"
IMAGES_DIR = DISTROS_DIR / "images"
COMPOSE_FILE = ROOT / "compose.yml"
