"""wardwatch: keeps public-support program data honest."""

from importlib.metadata import version

__version__ = version("wardwatch")  # the one version source is pyproject.toml
