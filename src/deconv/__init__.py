"""Shared code for the deconvoluting-convolutions tutorial.

One home for everything that more than one notebook, script or test needs:
where the data lives, the dataset layout check, the data sources and their
checksums, the download and extraction code, the synthetic sample generator
and the tutorial's CNN.
"""

__version__ = "0.1.0"
