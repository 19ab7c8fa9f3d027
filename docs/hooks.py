"""MkDocs hook: the site shows the package's one version, adasim.__version__."""

from typing import Any


def on_config(config: Any) -> Any:
    """Put `adasim X.Y.Z` in the footer (the version the package, `adasim --version` and CITATION.cff carry)."""
    from adasim import __version__

    config["copyright"] = f"adasim {__version__} · MIT License"
    return config
