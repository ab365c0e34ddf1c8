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

# Notebook 04 teaches the interval of a mean, Welch's interval of a difference and the verdict
# read from an interval: its exported cells (importing them loads TensorFlow, as blog_recipe does).
from .blog_recipe import MIN_SEEDS, Interval, mean_interval, seed_difference, verdict

__all__ = ["MIN_SEEDS", "Interval", "mean_interval", "seed_difference", "verdict"]
__all__ += ["mean_and_sd", "summary", "against_goal", "PairedPhotos", "paired_photos"]
CONFIDENCE = 0.95


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
