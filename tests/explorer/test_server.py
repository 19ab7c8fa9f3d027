"""The explorer's server (Tornado) as a client sees it: the page, the API's numbers, a 4xx with a
one-line message for every bad request, 127.0.0.1 only by default, tabs that never mix."""

import json
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest

pytest.importorskip("tornado", reason="the explorer's server needs Tornado: pip install 'adasim[explore]'")

from adasim.explorer.server import bind
from adasim.explorer.view import parse_position, view

STEPS = 2000
USER = """
from typing import NamedTuple
from adasim import Definition, out
class H(NamedTuple):
    eps: float = 1e-8
class S(NamedTuple):
    m: float = 0.0
def step(s, hp, g, t, alpha):
    return s, out(alpha * g)
Plain = Definition("Plain", H, S, step)
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory, serving):
    """The app started with a user optimizer; yields (base url, the user optimizer's spec)."""
    user = tmp_path_factory.mktemp("user") / "mine.py"
    user.write_text(USER)
    spec = f"{user}:Plain"
    with serving([spec], steps=STEPS) as url:
        yield url, spec


def get(url):
    try:
        with urllib.request.urlopen(url, timeout=60) as res:
            return res.status, res.headers.get("Content-Type"), res.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, err.headers.get("Content-Type"), err.read().decode()


def test_binds_to_this_machine_only_by_default(server):
    import inspect

    from adasim.cli.explore import explore

    assert server[0].startswith("http://127.0.0.1:")
    host = inspect.signature(explore).parameters["host"].default
    assert host == "127.0.0.1"


def test_the_page_carries_its_script_and_controls(server):
    status, kind, body = get(server[0])
    assert status == 200
    assert kind.startswith("text/html")
    assert 'id="adasim-config"' in body
    assert "export function mount" in body
    config = json.loads(body.split('id="adasim-config">')[1].split("</script>")[0])
    assert server[1] in config["optimizers"]
    assert "adam" in config["optimizers"]


def test_the_api_returns_the_view_of_its_query(server):
    status, kind, body = get(server[0] + "api/view?C=5&beta2=0.2&optimizers=adam,amsgrad")
    assert status == 200
    assert kind == "application/json"
    data = json.loads(body)
    assert data == json.loads(json.dumps(view(parse_position({"C": "5", "beta2": "0.2", "optimizers": "adam,amsgrad"}, steps=STEPS))))
    status, _, body = get(server[0] + "api/phase?C=5&optimizers=adam")
    assert status == 200
    assert json.loads(body)["optimizers"][0]["critical_beta2"] > 0


def test_a_user_optimizer_given_at_start_may_be_chosen(server):
    status, _, body = get(server[0] + f"api/view?optimizers=adam,{urllib.parse.quote(server[1])}")
    assert status == 200, body
    assert [o["name"] for o in json.loads(body)["optimizers"]] == ["adam", server[1]]


@pytest.mark.parametrize(
    ("path", "code", "message"),
    [
        ("api/view?C=-1", 400, "C must lie in"),
        ("api/view?beta2=abc", 400, "β2 must be a number"),
        ("api/view?betta2=0.5", 400, "did you mean 'beta2'"),
        ("api/view?C=3&C=4", 400, "give 'C' once"),
        ("api/view?optimizers=", 400, "choose at least one optimizer"),
        ("api/view?optimizers=other.py:X", 400, "unknown optimizer"),  # only what the server was started with
        ("api/view?d=3&k=5", 400, "spikes k must be below the period d"),
        ("api/phase?seeds=1e9", 400, "seeds must"),
        ("api/view?C=1e300&optimizers=adam", 400, "C must lie in [0, 1e+06]"),
        ("api/nothing", 404, "404"),
        ("nowhere", 404, "404"),
    ],
)
def test_bad_requests_get_a_4xx_and_one_line(server, path, code, message):
    status, kind, body = get(server[0] + path)
    assert status == code
    assert kind == "application/json"
    error = json.loads(body)["error"]
    assert message in error
    assert "\n" not in error
    assert "Traceback" not in body


def test_concurrent_tabs_never_mix_their_results(server):
    values = ["3", "4", "6", "8", "12", "16", "24", "32"]

    def ask(C):
        status, _, body = get(server[0] + f"api/view?C={C}&optimizers=adam,adashift")
        assert status == 200
        return C, json.loads(body)

    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(ask, values * 2))
    for C, data in answers:
        assert data["position"]["C"] == C
        want = view(parse_position({"C": C, "optimizers": "adam,adashift"}, steps=STEPS))
        assert data["optimizers"][0]["final_x"] == want["optimizers"][0]["final_x"]
        assert data["command"] == want["command"]


def test_a_taken_port_is_a_one_line_error():
    from adasim.errors import AdasimError

    taken = bind("127.0.0.1", 0)
    port = taken[0].getsockname()[1]
    try:
        with pytest.raises(AdasimError, match=f"cannot listen on 127.0.0.1:{port}: .*in use"):
            bind("127.0.0.1", port)
    finally:
        for s in taken:
            s.close()


def test_numerical_trouble_is_a_422_and_a_fault_of_adasim_a_500_without_a_traceback(caplog):
    from adasim.errors import NumericalError
    from adasim.explorer.server import answer

    def overflows(position):
        raise NumericalError("adam: the gradients' squares overflow")

    def breaks(position):
        raise ZeroDivisionError("a bug")

    assert answer(overflows, {}, (), STEPS) == (422, json.dumps({"error": "adam: the gradients' squares overflow"}))
    status, body = answer(breaks, {}, (), STEPS)
    assert status == 500
    assert "ZeroDivisionError" in json.loads(body)["error"]
    assert [r.getMessage().count("\n") for r in caplog.records] == [0]  # one line in the server's log
