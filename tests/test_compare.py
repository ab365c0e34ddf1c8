"""deconv.compare: intervals over seeds, verdicts read from them, and two models on the same photos."""

import math

import numpy as np
import pytest
from scipy import stats

from deconv import compare


def test_welch_interval_agrees_with_scipy():
    before, after = [0.76, 0.78, 0.77, 0.74], [0.80, 0.85, 0.83]
    interval = compare.seed_difference(before, after)
    reference = stats.ttest_ind(after, before, equal_var=False).confidence_interval(0.95)
    assert interval.estimate == pytest.approx(np.mean(after) - np.mean(before))
    assert (interval.low, interval.high) == pytest.approx((reference.low, reference.high))
    assert interval.seeds == (4, 3)


def test_mean_interval_agrees_with_scipy():
    values = [0.85, 0.87, 0.86]
    interval = compare.mean_interval(values)
    reference = stats.ttest_1samp(values, 0).confidence_interval(0.95)
    assert (interval.low, interval.high) == pytest.approx((reference.low, reference.high))


def test_verdicts_read_from_the_interval():
    assert compare.verdict(compare.seed_difference([0.70, 0.71, 0.72], [0.80, 0.81, 0.82])) == "better"
    assert compare.verdict(compare.seed_difference([0.80, 0.81, 0.82], [0.70, 0.71, 0.72])) == "worse"
    spread = compare.seed_difference([0.74, 0.80, 0.77], [0.76, 0.82, 0.75])
    assert spread.low < 0 < spread.high
    assert compare.verdict(spread) == "cannot tell with 3 and 3 seeds"


def test_no_verdict_from_fewer_than_three_seeds_however_large_the_difference():
    one = compare.seed_difference([0.6], [0.9, 0.91, 0.92])
    assert math.isnan(one.low) and "no interval" in str(one)
    assert compare.verdict(one) == "no verdict: 1 and 3 seed(s), fewer than 3"
    two = compare.seed_difference([0.60, 0.61], [0.90, 0.91])
    assert compare.verdict(two).startswith("no verdict: 2 and 2 seed(s)")


def test_against_goal():
    assert compare.against_goal([0.86, 0.87, 0.865], 0.85) == "reached"
    assert compare.against_goal([0.80, 0.81, 0.80], 0.85) == "not reached"
    assert compare.against_goal([0.84, 0.86, 0.85], 0.85) == "cannot tell with 3 seeds"


def test_summary_says_how_many_seeds():
    assert compare.summary([0.8, 0.9]) == "0.850 ± 0.071 (2 seeds)"
    assert compare.summary([0.8]) == "0.800 (1 seed)"


def test_paired_photos_counts_disagreements_and_tests_them():
    first = [True] * 50 + [False] * 30 + [True] * 20
    second = [True] * 50 + [True] * 30 + [False] * 20
    paired = compare.paired_photos(first, second)
    assert (paired.only_first, paired.only_second) == (20, 30)
    assert paired.p_value == pytest.approx(stats.binomtest(20, 50).pvalue)
    assert paired.verdict("a", "b").startswith("cannot tell a and b apart")
    lopsided = compare.paired_photos([True] * 40 + [False] * 60, [True] * 100)
    assert lopsided.only_second == 60 and lopsided.verdict("a", "b").startswith("b is better")
    assert compare.paired_photos([True, False], [True, False]).p_value == 1.0
