"""Reading the YAML files users and the repository provide, with one kind of error."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from .errors import ConfigError


def read_yaml(path: Path, what: str, hint: str) -> Any:
    """Parse ``path``; a missing or malformed file is a ConfigError naming it.

    ``what`` names the file's role ("config file"), ``hint`` says what to do when missing.
    """
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError as err:
        raise ConfigError(f"{path}: {what} not found; {hint}") from err
    except IsADirectoryError as err:
        raise ConfigError(f"{path}: {what} is a directory, not a file; {hint}") from err
    except UnicodeDecodeError as err:
        raise ConfigError(f"{path}: {what} is not UTF-8 text (byte {err.start}); save it as "
                          "UTF-8") from err
    except OSError as err:
        raise ConfigError(f"{path}: {what} cannot be read: {err.strerror}; {hint}") from err
    except yaml.YAMLError as err:
        raise ConfigError(f"{path}: not valid YAML: {err}") from err
