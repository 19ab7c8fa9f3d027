"""MkDocs hooks: the site shows the package's one version, and an underscore is a subscript."""

from typing import Any

from markdown import Markdown
from markdown.extensions import Extension
from mkdocs.plugins import event_priority


class UnderscoreIsSubscript(Extension):
    """v_t, v̂_{t−1}, g_{t−n}: in the papers' notation, which the docstrings and pages write, an underscore
    is a subscript, never emphasis (the pages emphasise with *…*): Python-Markdown's underscore
    emphasis would turn `v̂_t = max(v̂_{t−1}, v_t)` into italics and drop the underscores."""

    def extendMarkdown(self, md: Markdown) -> None:
        if hasattr(md, "delimiters"):  # Python-Markdown ≥ 3.11: one processor for * and _
            md.delimiters.remove("_")
        else:  # earlier: the underscore's own pattern
            md.inlinePatterns.deregister("em_strong2", strict=False)


@event_priority(100)  # before the plugins read the extensions (mkdocstrings renders the docstrings with them)
def on_config(config: Any) -> Any:
    """Put `adasim X.Y.Z` in the footer (the version the package, `adasim --version` and CITATION.cff
    carry), and the notation's underscores into every Markdown the site renders."""
    from adasim import __version__

    config["copyright"] = f"adasim {__version__} · MIT License"
    config["markdown_extensions"].append(UnderscoreIsSubscript())
    return config
