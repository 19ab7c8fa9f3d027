"""`adasim.explore()` in Jupyter: the explorer's page as a notebook widget (anywidget, extra
`adasim[notebooks]`). The page's script is the same file; its requests travel as widget
messages to this kernel, which answers them with the same `view` and `phase` as the server."""

from __future__ import annotations

import json
from typing import Any

from adasim.errors import AdasimError
from adasim.explorer.page import asset, config
from adasim.explorer.server import answer
from adasim.explorer.view import STEPS, parse_position, phase, view
from adasim.optimizers import OPTIMIZERS, definition

FUNCTIONS = {"view": view, "phase": phase}


def _anywidget() -> Any:
    try:
        import anywidget
        import traitlets
    except ImportError:
        raise AdasimError("adasim.explore() needs anywidget: pip install 'adasim[notebooks]'") from None
    return anywidget, traitlets


def make_widget(steps: int = STEPS, **start: Any) -> Any:
    """The widget: every built-in optimizer as a toggle, plus the `file.py:Name` optimizers of
    `start` (the controls by name: C=3, beta2=0.3, optimizers="adam,adopt" or a list)."""
    anywidget, traitlets = _anywidget()
    query = {k: ",".join(v) if k == "optimizers" and not isinstance(v, str) else str(v) for k, v in start.items()}
    chosen = [o for o in query.get("optimizers", "").split(",") if o]
    for name in chosen:
        definition(name)  # an unknown name or a user file that fails says so now, in one line
    optimizers = [o for o in chosen if o not in OPTIMIZERS]
    allowed = tuple(optimizers)
    position = parse_position(query, allowed, steps)

    class Explorer(anywidget.AnyWidget):
        _esm = asset("explorer.js")
        _css = asset("explorer.css")
        config = traitlets.Dict().tag(sync=True)

        def answer(self, content: dict[str, Any]) -> dict[str, Any]:
            """The reply to one request of the page: {seq, data} or {seq, error}."""
            what = content.get("what")
            if what not in FUNCTIONS:
                return {"seq": content.get("seq"), "error": f"unknown request {what!r}"}
            status, body = answer(FUNCTIONS[what], dict(content.get("query") or {}), allowed, steps)
            reply = json.loads(body)
            return {"seq": content.get("seq"), **({"data": reply} if status == 200 else reply)}

    widget = Explorer(config=config(tuple(dict.fromkeys([*OPTIMIZERS, *optimizers])), position,
                                    mode_note=f"notebook: every change re-simulates {steps:,} steps in this kernel"))  # fmt: skip
    widget.on_msg(lambda w, content, buffers: w.send(w.answer(content)))
    return widget
