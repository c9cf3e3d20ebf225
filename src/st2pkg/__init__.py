"""st2pkg: build StackStorm OS packages in per-distro containers and verify them."""

from __future__ import annotations

__version__ = "0.1.0"
