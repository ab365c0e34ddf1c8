"""Shared code for the deconvoluting-convolutions tutorial.

The top level holds what the notebooks import: the CNN (``model``), its
input pipeline (``pipeline``), training, plots, interpretation, the DNA
chapter and opening the dataset (``dataset``), on a foundation of
``paths``, ``layout`` (the dataset layout check), ``environment`` and
``cli`` (what the scripts share). Two sub-packages build on it:
``deconv.data`` gets the photos, ``deconv.benchmark`` times the input
pipelines for notebook 07. The top level never imports the benchmark.
"""

__version__ = "0.1.0"
