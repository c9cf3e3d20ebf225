"""What each task does, callable without invoke. tasks.py only forwards to these."""

from __future__ import annotations

from .config import Options, resolve
from .distros import Catalog


def load(config: str | None, **cli: object) -> tuple[Catalog, Options]:
    """Load the catalog and resolve options for one task invocation."""
    catalog = Catalog.load()
    return catalog, resolve(catalog, cli=cli, config_file=config)


def show_config(config: str | None, distros: str | None = None) -> None:
    """Print every option with its value and source, then the selected distros' facts."""
    catalog, opts = load(config, distros=distros)
    width = max(len(name) for name, _, _ in opts.describe())
    print(f"# config file: {opts.config_file or '(none)'}")
    for name, value, source in opts.describe():
        print(f"{name:<{width}}  {value}  [{source}]")
    for name in opts.distros:
        d = catalog.get(name)
        print(f"\n[{d.name}] family={d.family} format={d.format} version={d.version} "
              f"python={d.python} abi={d.python_abi} init={d.init} image={d.image} "
              f"bootstrap={d.bootstrap or '-'}")


def list_distros(config: str | None) -> None:
    """Print the catalog with provisioning status on this machine."""
    catalog, _ = load(config)
    for d in catalog.distros.values():
        print(f"{d.name:<9} {d.family:<7} {d.format}  python {d.python:<5} {d.image}")
