"""pytest settings shared by the unit tests and the notebooks under nbval."""


def pytest_collectstart(collector):
    # TensorFlow writes log lines to stderr; they differ between machines and
    # runs, so notebook comparisons leave stderr out.
    if collector.fspath and collector.fspath.ext == ".ipynb":
        collector.skip_compare += ("stderr",)
