"""The shape explorer's formulas agree with Keras, and it explains settings that cannot work."""

import dataclasses

import pytest

keras = pytest.importorskip("keras")

from deconv import explorer  # noqa: E402
from deconv.cnn import build_cnn  # noqa: E402
from deconv.explorer import DEFAULT, MapTooSmall, Settings, Stage  # noqa: E402

# Variants a reader might try: the exercise's 5x5 stride-2 conv3, 'same' padding, big strides and
# windows, the smallest input the network accepts, and a two-stage network.
VARIANTS = [
    Settings(stages=(Stage(32), Stage(32), Stage(64, kernel=5, stride=2))),
    Settings(stages=(Stage(32, padding="same"), Stage(32, padding="same"), Stage(64, padding="same"))),
    Settings(input_size=97, stages=(Stage(16, kernel=7, stride=3, pool=3), Stage(8, kernel=1, pool=1))),
    Settings(input_size=22),
    Settings(input_size=61, stages=(Stage(4, kernel=4, stride=2, padding="same"), Stage(6, stride=3))),
]


def test_default_table_is_the_tutorials_network():
    rows = explorer.formula_rows(DEFAULT)
    spatial = [row.shape[1] for row in rows if row.kind in ("Conv2D", "MaxPooling2D")]
    assert spatial == [148, 74, 72, 36, 34, 17]
    assert next(row.shape for row in rows if row.name == "flatten") == (None, 18_496)
    assert [row.params for row in rows if row.params] == [896, 9_248, 18_496, 1_183_808, 65]
    assert sum(row.params for row in rows) == 1_212_513


def test_the_formulas_of_the_default_settings_describe_notebook_02s_network():
    assert explorer.formula_rows(DEFAULT) == explorer.keras_rows(build_cnn())


def test_default_report_shows_both_totals_and_agreement():
    text = explorer.report()
    total_line = next(line for line in text.splitlines() if line.startswith("total"))
    assert total_line.split()[1:] == ["1,212,513", "1,212,513"]
    assert "Formula and Keras agree on all 15 layers." in text
    pool3_line = next(line for line in text.splitlines() if line.startswith("pool3"))
    assert pool3_line.count("(None, 17, 17, 64)") == 2


@pytest.mark.parametrize("settings", VARIANTS, ids=range(len(VARIANTS)))
def test_formula_agrees_with_keras(settings):
    assert explorer.formula_rows(settings) == explorer.keras_rows(explorer.keras_model(settings))
    assert "agree on all" in explorer.report(settings)


def test_report_flags_a_disagreement(monkeypatch):
    wrong = explorer.formula_rows(DEFAULT)
    wrong[1] = dataclasses.replace(wrong[1], params=895)
    monkeypatch.setattr(explorer, "formula_rows", lambda settings: wrong)
    assert "DISAGREE on: conv1" in explorer.report()


def test_report_says_when_keras_refuses_what_the_formulas_accept(monkeypatch):
    default_rows = explorer.formula_rows(DEFAULT)
    monkeypatch.setattr(explorer, "formula_rows", lambda settings: default_rows)
    text = explorer.report(Settings(input_size=21))  # Keras cannot pool pool3's 1x1 input
    assert "Keras refuses settings the formulas accept" in text
    assert "agree on all" not in text


def test_pooling_below_one_pixel_is_explained_and_keras_refuses_it_too():
    too_small = Settings(input_size=21)  # conv3 leaves 1x1, which a 2x2 window cannot pool
    with pytest.raises(
        MapTooSmall, match=r"pool3: its 2×2 pooling window is larger than its 1×1 input"
    ) as caught:
        explorer.formula_rows(too_small)
    assert "below 1×1" in str(caught.value)
    assert [row.name for row in caught.value.rows][-1] == "relu3"
    text = explorer.report(too_small)
    assert str(caught.value) in text and "No Keras model is built" in text
    with pytest.raises(ValueError, match="zero or negative"):
        explorer.keras_model(too_small)


def test_a_kernel_larger_than_its_input_is_explained():
    settings = Settings(input_size=28, stages=(Stage(32), Stage(32), Stage(64, kernel=7)))
    message = str(pytest.raises(MapTooSmall, explorer.formula_rows, settings).value)
    assert message.startswith("conv3: its 7×7 kernel is larger than its 5×5 input")
    assert "padding='same'" in message
    with pytest.raises(ValueError, match="zero or negative"):
        explorer.keras_model(settings)


def test_output_size_rules():
    assert explorer.output_size(35, 2, 2) == 17  # valid: floor((35 - 2) / 2) + 1
    assert explorer.output_size(35, 2, 2, "same") == 18  # same: ceil(35 / 2)
    assert explorer.output_size(150, 3) == 148
    assert explorer.output_size(150, 5, 1, "same") == 150
    assert explorer.output_size(4, 5) == 0
    with pytest.raises(ValueError, match="padding"):
        explorer.output_size(10, 3, 1, "full")
    with pytest.raises(ValueError, match="at least 1"):
        explorer.output_size(10, 3, 0)


def test_widget_redraws_the_table_as_sliders_move():
    pytest.importorskip("ipywidgets")
    widget = explorer.explorer_widget()
    input_size, stages, table = widget.children
    assert "1,212,513" in table.value
    conv3_kernel, conv3_stride = stages.children[2].children[1:3]
    conv3_kernel.value, conv3_stride.value = 5, 2
    assert "323,681" in table.value  # the exercise's variant
    input_size.value = 21
    assert "below 1×1" in table.value and "No Keras model" in table.value
