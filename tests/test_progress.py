"""Quieter training output and learning-curve axes that follow the data (notebook 04)."""

from __future__ import annotations

import pytest

from deconv.plots import data_limits


def test_axis_limits_span_the_data_with_a_margin():
    low, high = data_limits([0.74, 0.80, 0.77])
    assert low == pytest.approx(0.74 - 0.08 * 0.06) and high == pytest.approx(0.80 + 0.08 * 0.06)
    assert low > 0.7 and high < 0.81  # not 0 to 1: the band where the curves move fills the axis
    flat_low, flat_high = data_limits([0.5, 0.5])
    assert flat_low < 0.5 < flat_high  # a flat curve still gets an axis of some height


def test_epoch_timer_prints_every_nth_epoch_and_the_last(capsys):
    from deconv.epoch_timer import EpochTimer

    timer = EpochTimer(every=10)
    timer.params = {"epochs": 25}
    timer.on_train_begin()
    for epoch in range(25):
        timer.on_epoch_begin(epoch)
        logs = {"loss": 0.5}
        timer.on_epoch_end(epoch, logs)
        assert "seconds" in logs  # every epoch is timed and logged, printed or not
    printed = [line.split()[1] for line in capsys.readouterr().out.splitlines()]
    assert printed == ["10/25", "20/25", "25/25"]
