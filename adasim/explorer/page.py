"""The explorer's one page: the controls' description (`config`) and the HTML that carries the
script, the style and the data inline (so that a static export opens from file:// with no
network and the server needs to serve one document)."""

from __future__ import annotations

import html
import json
from collections.abc import Sequence
from importlib import resources
from typing import Any

from adasim.explorer.style import styles
from adasim.explorer.view import CONTROLS, FAMILIES, MAX_OPTIMIZERS, Control, Position
from adasim.io import provenance


def asset(name: str) -> str:
    """explorer.js or explorer.css, as installed with the package."""
    return resources.files("adasim.explorer").joinpath("static", name).read_text(encoding="utf-8")


def config(
    optimizers: Sequence[str], start: Position, controls: Sequence[Control] = CONTROLS, mode_note: str = ""
) -> dict[str, Any]:
    """What the page needs to build its controls: every control with its stops and per-family
    defaults, the optimizers it may toggle (with their styles: adasim.explorer.style, and how many
    may be on at once) and the position it starts at."""
    return {
        "provenance": provenance(),
        "controls": [c.as_dict() for c in controls],
        "families": list(FAMILIES),
        "optimizers": list(optimizers),
        "styles": {name: st.as_dict() for name, st in styles(optimizers).items()},
        "max_optimizers": MAX_OPTIMIZERS,
        "start": start.query(),
        "mode_note": mode_note,
    }


def _json(value: Any) -> str:
    """JSON that is safe inside a <script> element."""
    return json.dumps(value, separators=(",", ":"), allow_nan=False).replace("</", "<\\/")


BOOT = """
window.adasimErrors = 0;
window.addEventListener("error", () => { window.adasimErrors += 1; }, true);
const config = JSON.parse(document.getElementById("adasim-config").textContent);
const dataNode = document.getElementById("adasim-data");
for (const [k, v] of new URLSearchParams(location.hash.slice(1))) config.start[k] = v;
const root = document.getElementById("app");
window.adasimExplorer = mount(root, dataNode ? staticBackend(config, JSON.parse(dataNode.textContent)) : serverBackend(config));
"""


def page(cfg: dict[str, Any], data: dict[str, Any] | None = None, title: str = "adasim explorer") -> str:
    """The whole page: served by `adasim explore`, or (with `data`, the precomputed views) the
    static export."""
    version = cfg["provenance"]["adasim"]
    data_tag = "" if data is None else f'<script type="application/json" id="adasim-data">{_json(data)}</script>'
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="adasim {html.escape(str(version))}">
<title>{html.escape(title)}</title>
<link rel="icon" href="data:,">
<style>{asset("explorer.css")}</style>
</head>
<body>
<div id="app"></div>
<noscript>The adasim explorer needs JavaScript.</noscript>
<script type="application/json" id="adasim-config">{_json(cfg)}</script>
{data_tag}
<script type="module">
{asset("explorer.js")}
{BOOT}
</script>
</body>
</html>
"""
