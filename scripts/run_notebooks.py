#!/usr/bin/env python3
"""Execute notebooks in order, with progress, into results/notebooks/.

Each notebook runs top to bottom on a fresh kernel from its own folder (as in
Jupyter), and the executed copy is written to results/notebooks/ (the
notebooks in notebooks/ are left as they are). The run stops at the first
notebook that fails, naming the cell. At the end, results/metrics.json is
summarised if the training notebook wrote it during this run.

Exit status: 0 all ran; 1 a notebook failed; 2 bad arguments (or not the
project's environment); 130 interrupted.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from pathlib import Path

PROG = "run_notebooks.py"
# deconv.cli, which says what to do when the environment is missing, needs only the standard library:
# found in src/ even when this Python is not the project's.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))


def execute(path: Path, output_dir: Path, timeout: int) -> float:
    """Run one notebook; return its seconds.

    Raises CellExecutionError or CellTimeoutError, with ``cell`` set to
    where the failing cell is, as "cell N of M (first line of its code)".
    """
    import nbformat
    from nbclient import NotebookClient
    from tqdm.auto import tqdm

    notebook = nbformat.read(path, as_version=4)
    code_cells = sum(1 for cell in notebook.cells if cell.cell_type == "code")
    started = time.perf_counter()
    running = {}

    def cell_started(cell, cell_index, **_):
        running["index"] = cell_index

    with tqdm(total=code_cells, desc=path.name, unit="cell") as bar:
        client = NotebookClient(
            notebook,
            timeout=timeout,
            kernel_name="python3",
            record_timing=False,  # no timestamps in cell metadata: saved notebooks diff cleanly
            resources={"metadata": {"path": str(path.parent)}},
            on_cell_start=cell_started,
            on_cell_executed=lambda cell, **_: bar.update(1) if cell.cell_type == "code" else None,
        )
        try:
            client.execute()
        except Exception as error:
            if "index" in running:
                index = running["index"]
                opening = next(
                    (line for line in notebook.cells[index].source.splitlines() if line.strip()), ""
                )
                error.cell = f"cell {index + 1} of {len(notebook.cells)} ({opening.strip()[:60]})"
            raise
        finally:
            output_dir.mkdir(parents=True, exist_ok=True)
            nbformat.write(notebook, output_dir / path.name)
    return time.perf_counter() - started


def summarise_metrics(since: float) -> None:
    """Print results/metrics.json if a notebook of this run wrote it (not one left from an earlier run)."""
    from deconv.paths import display_path, results_dir

    metrics_file = results_dir() / "metrics.json"
    if not metrics_file.exists() or metrics_file.stat().st_mtime < since:
        return
    metrics = json.loads(metrics_file.read_text())
    print(f"\nMetrics ({display_path(metrics_file)}):")
    for key, value in metrics.items():
        if not isinstance(value, (dict, list)):
            print(f"  {key}: {value}")


def build_parser() -> argparse.ArgumentParser:
    from deconv import cli
    from deconv.paths import RESULTS_DIR, display_path

    parser = cli.parser(PROG, __doc__)
    parser.add_argument("notebooks", nargs="+", type=Path, help="notebooks, run in the order given")
    parser.add_argument(
        "--output-dir",
        type=Path,
        default=RESULTS_DIR / "notebooks",
        help=f"where executed copies go (default: {display_path(RESULTS_DIR / 'notebooks')})",
    )
    parser.add_argument(
        "--cell-timeout", type=int, default=3600, help="seconds one cell may take (default 3600)"
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    from deconv import cli  # standard library only: importable outside the environment too

    parser = build_parser()
    args = parser.parse_args(argv)
    missing = [str(p) for p in args.notebooks if not p.is_file()]
    if missing:
        parser.error(f"no such notebook: {', '.join(missing)}")

    try:
        from nbclient.exceptions import CellExecutionError, CellTimeoutError

        from deconv.paths import display_path
    except ImportError as error:
        return cli.outside_environment(PROG, error)

    total = len(args.notebooks)
    started = time.time()
    for number, path in enumerate(args.notebooks, start=1):
        print(f"[{number}/{total}] {path.name}", flush=True)
        executed = display_path(args.output_dir / path.name)
        try:
            with cli.sigterm_as_interrupt():  # the kernel is shut down and the copy written either way
                seconds = execute(path.resolve(), args.output_dir, args.cell_timeout)
        except KeyboardInterrupt:
            return cli.fail(
                PROG, cli.EXIT_INTERRUPTED, f"interrupted in {path.name}; its copy so far is {executed}."
            )
        except (CellExecutionError, CellTimeoutError) as error:
            plain = re.sub(r"\x1b\[[0-9;]*m", "", str(error)).strip()  # drop terminal colours
            problem = plain.splitlines()[-1] if plain else "it failed"  # the traceback ends with the error
            if isinstance(error, CellTimeoutError):
                problem = f"it ran longer than --cell-timeout {args.cell_timeout} s and was stopped"
            print(
                f"{path.name} failed in {getattr(error, 'cell', 'a cell')}: {problem}\n"
                f"The executed copy, with the error in place, is {executed}.",
                file=sys.stderr,
            )
            return cli.EXIT_FAILED
        print(f"      done in {seconds:.0f} s -> {executed}", flush=True)
    summarise_metrics(since=started)
    return 0


if __name__ == "__main__":
    sys.exit(main())
