"""Comparing trainings as their noise allows: over seeds, with a 95% interval, and a verdict read from it.

Two trainings that differ only in their seed end a few points apart, so
one run of each setting cannot say which setting is better. Over several
seeds per setting the difference of the means gets an interval (Welch's,
which lets each side have its own spread), and the verdict says "better"
or "worse" only when the interval leaves out zero. Two models judged on
the same photos are compared photo by photo instead (McNemar's test):
that measures the photos' noise, not the seeds'.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

CONFIDENCE = 0.95
MIN_SEEDS = 3  # fewer seeds than this per setting: no verdict


def mean_and_sd(values) -> tuple[float, float]:
    """The mean, and the sample standard deviation (nan for a single value)."""
    values = [float(value) for value in values]
    mean = sum(values) / len(values)
    if len(values) < 2:
        return mean, math.nan
    return mean, math.sqrt(sum((value - mean) ** 2 for value in values) / (len(values) - 1))


def summary(values) -> str:
    """'0.812 ± 0.010 (3 seeds)': mean ± standard deviation over seeds, or the value alone for one seed."""
    values = list(values)
    mean, sd = mean_and_sd(values)
    if len(values) == 1:
        return f"{mean:.3f} (1 seed)"
    return f"{mean:.3f} ± {sd:.3f} ({len(values)} seeds)"


def _t_quantile(df: float) -> float:
    from scipy import stats

    return float(stats.t.ppf(0.5 + CONFIDENCE / 2, df))


@dataclass(frozen=True)
class Interval:
    """An estimate with its 95% interval, from ``seeds`` seeds per side (a pair for a difference)."""

    estimate: float
    low: float
    high: float
    seeds: tuple[int, ...]

    @property
    def enough_seeds(self) -> bool:
        return min(self.seeds) >= MIN_SEEDS

    def __str__(self) -> str:
        if math.isnan(self.low):
            return f"{self.estimate:+.3f} (no interval)"
        return f"{self.estimate:+.3f} [{self.low:+.3f}, {self.high:+.3f}]"


def mean_interval(values) -> Interval:
    """The mean over seeds with its t interval."""
    values = list(values)
    mean, sd = mean_and_sd(values)
    if len(values) < 2:
        return Interval(mean, math.nan, math.nan, (len(values),))
    half = _t_quantile(len(values) - 1) * sd / math.sqrt(len(values))
    return Interval(mean, mean - half, mean + half, (len(values),))


def seed_difference(before, after) -> Interval:
    """mean(after) - mean(before) over seeds, with Welch's 95% interval."""
    before, after = list(before), list(after)
    seeds = (len(before), len(after))
    (mean_a, sd_a), (mean_b, sd_b) = mean_and_sd(before), mean_and_sd(after)
    estimate = mean_b - mean_a
    if min(seeds) < 2:
        return Interval(estimate, math.nan, math.nan, seeds)
    var_a, var_b = sd_a**2 / seeds[0], sd_b**2 / seeds[1]
    if var_a + var_b == 0:
        return Interval(estimate, estimate, estimate, seeds)
    df = (var_a + var_b) ** 2 / (var_a**2 / (seeds[0] - 1) + var_b**2 / (seeds[1] - 1))
    half = _t_quantile(df) * math.sqrt(var_a + var_b)
    return Interval(estimate, estimate - half, estimate + half, seeds)


def verdict(interval: Interval, up: str = "better", down: str = "worse") -> str:
    """``up`` when the interval lies above zero, ``down`` below it, otherwise 'cannot tell ...'."""
    seeds = " and ".join(str(count) for count in interval.seeds)
    if not interval.enough_seeds or math.isnan(interval.low):
        return f"no verdict: {seeds} seed(s), fewer than {MIN_SEEDS}"
    if interval.low > 0:
        return up
    if interval.high < 0:
        return down
    return f"cannot tell with {seeds} seeds"


def against_goal(values, goal: float) -> str:
    """Whether the mean over seeds reached ``goal``: 'reached', 'not reached' or 'cannot tell'."""
    interval = mean_interval(values)
    shifted = Interval(interval.estimate - goal, interval.low - goal, interval.high - goal, interval.seeds)
    return verdict(shifted, up="reached", down="not reached")


@dataclass(frozen=True)
class PairedPhotos:
    """Two models on the same photos: how many each gets right that the other gets wrong, and the p value."""

    only_first: int
    only_second: int
    p_value: float

    def verdict(self, first: str, second: str) -> str:
        if self.p_value >= 1 - CONFIDENCE:
            return f"cannot tell {first} and {second} apart on these photos (p = {self.p_value:.2f})"
        better = second if self.only_second > self.only_first else first
        return f"{better} is better on these photos (p = {self.p_value:.3f}); other seeds may differ"


def paired_photos(right_first, right_second) -> PairedPhotos:
    """McNemar's exact test on the photos exactly one of two models gets right."""
    from scipy import stats

    pairs = list(zip(right_first, right_second, strict=True))
    only_first = sum(1 for a, b in pairs if a and not b)
    only_second = sum(1 for a, b in pairs if b and not a)
    disagreements = only_first + only_second
    p_value = 1.0 if disagreements == 0 else stats.binomtest(only_first, disagreements).pvalue
    return PairedPhotos(only_first, only_second, float(p_value))
