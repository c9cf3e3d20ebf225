"""invoke's door into st2pkg from a checkout: `invoke --list` shows the tasks of the
`st2pkg` command (src/st2pkg/cli.py), which are the same."""

from st2pkg.cli import ns

__all__ = ["ns"]
