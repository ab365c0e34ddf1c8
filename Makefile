# Shortcuts for scripts/tasks.py, which does the work and needs only python3.
PYTHON ?= python3
TASKS = $(PYTHON) scripts/tasks.py

.PHONY: tutorial test quick setup data sample lab book clean

tutorial:  ## prepare data and execute the notebooks in order
	$(TASKS) tutorial
test:      ## run every test (unit tests and notebooks under nbval)
	$(TASKS) test
quick:     ## run the tests that are not marked slow (no notebooks, no training)
	$(TASKS) test --quick
setup:     ## create/update .venv only
	$(TASKS) setup
data:      ## download and prepare real photos (cats_and_dogs_filtered)
	$(TASKS) data
sample:    ## generate the synthetic sample dataset
	$(TASKS) sample
lab:       ## start JupyterLab
	$(TASKS) lab
book:      ## build the book of the notebooks into results/book/
	$(TASKS) book
clean:     ## remove results and caches (keeps .venv and data)
	$(TASKS) clean
