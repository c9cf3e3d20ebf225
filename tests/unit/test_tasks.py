"""`st2pkg --help <task>` is complete: every task has a docstring and help for each flag, and
the checkout's tasks.py (for `invoke`) offers the same tasks."""

from __future__ import annotations

import importlib.util
import inspect
from pathlib import Path

from invoke.collection import Collection

import st2pkg.cli

ROOT = Path(__file__).resolve().parents[2]


def load_namespace() -> Collection:
    # Fresh task objects: invoke's parser takes each flag's help out of its task as it runs.
    importlib.reload(st2pkg.cli)
    spec = importlib.util.spec_from_file_location("st2pkg_tasks", ROOT / "tasks.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.ns is st2pkg.cli.ns
    ns: Collection = module.ns
    return ns


def test_every_task_documents_itself_and_every_flag() -> None:
    ns = load_namespace()
    names = list(ns.task_names)
    assert {"build", "test", "pipeline", "up", "shell", "clean", "packs.build"} <= set(names)
    for name in names:
        task = ns[name]
        assert (task.__doc__ or "").strip(), f"{name} has no docstring"
        params = [p for p in inspect.signature(task.body).parameters if p != "c"]
        missing = [p for p in params if p not in task.help]
        assert not missing, f"invoke --help {name}: no help for {missing}"
