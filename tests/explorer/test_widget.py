"""`adasim.explore()`: the notebook widget answers the page's requests with the server's numbers;
its script (the page's own) renders through a widget model in Chromium; a notebook shows it."""

import json

import pytest

pytest.importorskip("anywidget", reason="adasim.explore() needs anywidget: pip install 'adasim[notebooks]'")

import adasim
from adasim.errors import AdasimError
from adasim.explorer.page import asset
from adasim.explorer.view import parse_position, phase, view


def test_the_widget_answers_with_the_servers_numbers():
    w = adasim.explore(C=3, beta2=0.3, optimizers=["adam", "adopt"])
    start = w.config["start"]
    assert (start["C"], start["beta2"], start["optimizers"]) == ("3", "0.3", "adam,adopt")
    assert w._esm == asset("explorer.js")
    assert "export default { render }" in w._esm
    reply = w.answer({"what": "view", "seq": 7, "query": start})
    assert reply["seq"] == 7
    assert reply["data"] == json.loads(json.dumps(view(parse_position(start))))
    assert w.answer({"what": "phase", "seq": 8, "query": start})["data"] == json.loads(json.dumps(phase(parse_position(start))))
    assert w.answer({"what": "view", "seq": 9, "query": {"C": "-2"}}) == {"seq": 9, "error": "C must lie in (0, 1e+06], got -2.0"}
    assert "unknown request" in w.answer({"what": "sweep", "seq": 10})["error"]


def test_messages_travel_through_the_widget():
    w = adasim.explore(optimizers="adam")
    sent = []
    w.send = sent.append
    w._handle_custom_msg({"what": "view", "seq": 1, "query": {"optimizers": "adam"}}, [])
    assert sent[0]["seq"] == 1
    assert sent[0]["data"]["optimizers"][0]["name"] == "adam"


def test_bad_start_values_are_one_line_errors():
    with pytest.raises(AdasimError, match="did you mean 'beta2'"):
        adasim.explore(betta2=0.3)
    with pytest.raises(AdasimError, match="unknown optimizer 'adma'"):
        adasim.explore(optimizers="adma")


@pytest.mark.slow
def test_the_widget_renders_in_chromium_through_a_model(browser):
    """The same render() anywidget calls, with a model whose messages go to the kernel-side
    widget (here: this process) — what a notebook front end does."""
    w = adasim.explore(optimizers="adam,adashift")
    page = browser.new_page()
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.expose_function("kernel", lambda msg: w.answer(msg))
    config = json.dumps(w.config)
    page.set_content(f"""<div id="app"></div><style>{asset("explorer.css")}</style>
<script type="module">
{asset("explorer.js")}
let deliver = null;
const model = {{ get: () => ({config}), on: (name, fn) => {{ deliver = fn; }},
                 send: async (msg) => deliver(await window.kernel(msg)) }};
render({{ model, el: document.getElementById("app") }});
</script>""")
    page.wait_for_selector("table.drift-table tr[data-optimizer=adashift]")
    page.wait_for_selector("p.critical")
    want = view(parse_position({"optimizers": "adam,adashift"}))["optimizers"][0]["drift"]["closed"]
    assert page.text_content("table.drift-table tr[data-optimizer=adam] td.drift") == f"+{float(f'{want:.4g}')}"
    assert errors == []
    page.close()


@pytest.mark.slow
def test_a_notebook_shows_the_widget(tmp_path):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("import adasim\nadasim.explore(C=5)")])
    nbclient.NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    outputs = nb.cells[0].outputs
    assert any("application/vnd.jupyter.widget-view+json" in o.get("data", {}) for o in outputs), outputs
