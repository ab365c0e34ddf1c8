"""What the command-line scripts share: their parser, their error line, exit codes, SIGTERM as Ctrl-C.

Standard library only, so a script can import it before anything heavy and
still say what to do when the rest of the environment is missing.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys

# Every script's exit status, one meaning per number across the project.
EXIT_FAILED = 1  # the work failed (a download, a training, some photos): stderr says which
EXIT_USAGE = 2  # what argparse itself returns for bad arguments
EXIT_VERIFY = 3  # download_data.py: an archive failed verification (size or checksum)
EXIT_ARCHIVE = 4  # download_data.py: an archive is unsafe or corrupt
EXIT_DATA = 5  # download_data.py: the data cannot make the dataset asked for
EXIT_MODEL = 6  # classify.py, inspect_model.py: no usable model
EXIT_SETUP = 7  # tasks.py: the environment cannot be set up
EXIT_INTERRUPTED = 130  # what a shell reports for a program stopped by Ctrl-C
SETUP_COMMAND = "python3 scripts/tasks.py setup"
SETUP_HINT = f"Set up the environment first with '{SETUP_COMMAND}' and run this script with .venv/bin/python."


def parser(prog: str, doc: str) -> argparse.ArgumentParser:
    """A parser whose --help is the script's docstring: the first paragraph on top, the rest below."""
    return argparse.ArgumentParser(
        prog=prog,
        description=doc.split("\n\n")[0],
        epilog="\n\n".join(doc.split("\n\n")[1:]),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )


def positive_int(text: str) -> int:
    """An argparse type: a whole number of 1 or more (argparse exits 2 with the message otherwise)."""
    try:
        number = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if number < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more, not {number}")
    return number


def fail(prog: str, code: int, message: str) -> int:
    """Print ``prog: error: message`` as argparse does, and return ``code`` for ``sys.exit``."""
    print(f"{prog}: error: {message}", file=sys.stderr)
    return code


def outside_environment(prog: str, error: ImportError) -> int:
    """A library is missing: the script runs outside the project's environment.

    A name missing inside the package itself is a mistake in the code, not in the set-up: re-raised.
    """
    if (error.name or "").startswith("deconv."):
        raise error
    return fail(prog, EXIT_USAGE, f"{error}. {SETUP_HINT}")


@contextlib.contextmanager
def sigterm_as_interrupt():
    """Inside, SIGTERM raises KeyboardInterrupt, so ``finally`` blocks clean up as after Ctrl-C.

    A process forked inside (Keras' worker processes, which it stops with
    SIGTERM) just ends, as it would without this.
    """
    main_pid = os.getpid()

    def terminate(signum, frame):
        if os.getpid() != main_pid:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            os.kill(os.getpid(), signal.SIGTERM)
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, terminate)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
