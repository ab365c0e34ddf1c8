"""Where training time goes: how fast each input pipeline feeds the tutorial's CNN.

What ``scripts/benchmark.py`` and notebook 07 measure with:

- ``variants``: the pipelines compared, and what each changes for the model;
- ``machine``: the CPU, its usable cores, bfloat16 support;
- ``selection``: the seeded selection of training images every variant reads;
- ``feeds``: each variant's source of batches;
- ``measure``: the models, one timed epoch, and each pipeline step's CPU cost;
- ``run``: a whole run in rounds (``Benchmark``) and its report;
- ``report``: the report as a table, a closing note and a plot.

The modules the notebooks teach with never import this package.
"""

from .machine import bfloat16_support
from .report import format_stages, format_table, plot_report, ratio_noise, seconds_per_epoch, summary_lines
from .run import Benchmark
from .variants import COMPUTE, NOTEBOOK_VARIANTS, VARIANT_KEYS, VARIANTS, Variant, variant

__all__ = [
    "COMPUTE",
    "NOTEBOOK_VARIANTS",
    "VARIANTS",
    "VARIANT_KEYS",
    "Benchmark",
    "Variant",
    "bfloat16_support",
    "format_stages",
    "format_table",
    "plot_report",
    "ratio_noise",
    "seconds_per_epoch",
    "summary_lines",
    "variant",
]
