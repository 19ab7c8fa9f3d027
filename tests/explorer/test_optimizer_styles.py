"""Each optimizer's look in the explorer (adasim.explorer.style): one (colour, dash) pair per
optimizer, the same on every page that draws it and in the matplotlib explorer."""

from adasim.explorer.page import config
from adasim.explorer.style import DASHES, MARKERS, PALETTE, styles
from adasim.explorer.view import MAX_OPTIMIZERS, Position
from adasim.optimizers import OPTIMIZERS
from adasim.plots.run import COLORS


def test_every_builtin_optimizer_has_its_own_colour_and_dash():
    """Issue #32: about 10 colours for 24 optimizers (lion, yogi and sf-adamw shared one)."""
    looks = styles()
    assert list(looks) == list(OPTIMIZERS)
    assert len(OPTIMIZERS) >= 24
    pairs = {(s.color, s.dash) for s in looks.values()}
    assert len(pairs) == len(OPTIMIZERS)
    assert len({looks[n].color for n in ("lion", "yogi", "sf-adamw")}) == 3
    for s in looks.values():
        assert s.color in PALETTE
        assert s.marker == MARKERS[DASHES.index(s.dash)]  # the scatter's marker goes with the dash


def test_the_static_figures_colours_are_kept_and_solid():
    looks = styles()
    for name, color in COLORS.items():
        if name in looks:
            assert (looks[name].color, looks[name].dash) == (color, ())


def test_a_style_does_not_depend_on_the_other_names_and_user_optimizers_get_free_pairs():
    everyone = styles()
    assert styles(["lion"]) == {"lion": everyone["lion"]}
    assert styles(["yogi", "adam"]) == {"yogi": everyone["yogi"], "adam": everyone["adam"]}
    users = styles(["mine.py:One", "mine.py:Two"])
    taken = {(s.color, s.dash) for s in everyone.values()}
    assert len({(s.color, s.dash) for s in users.values()} - taken) == 2


def test_the_page_config_carries_every_toggles_style_and_the_limit():
    """What explorer.js draws with: no fallback colours, and the limit it states up front."""
    cfg = config(list(OPTIMIZERS), Position())
    assert set(cfg["styles"]) == set(OPTIMIZERS)
    assert len({(s["color"], tuple(s["dash"])) for s in cfg["styles"].values()}) == len(OPTIMIZERS)
    assert cfg["styles"]["lion"] == styles()["lion"].as_dict()
    assert cfg["max_optimizers"] == MAX_OPTIMIZERS
    # a static export of a few optimizers draws each as the live page does
    assert config(["lion", "adam"], Position(optimizers=("lion", "adam")))["styles"]["lion"] == cfg["styles"]["lion"]
