"""What each training of notebook 08 measured, kept one JSON file per training, and its table and goals."""

from __future__ import annotations

import hashlib
import json
import statistics
from dataclasses import asdict, dataclass, field
from pathlib import Path

from . import compare

TARGET_ACCURACY = 0.80  # what the Keras blog reports after 50 epochs
RUNS_DIRNAME = "beyond"  # results/beyond/<recipe>_<E>epochs_seed<N>.json
# The goals of notebook 08, on 2,000 training photos.
BLOG_NETWORK_GOAL = 0.85
MODERN_NETWORK_GOAL = 0.88
TIME_GOAL = 0.5  # reach the target in at most this share of the blog recipe's time
# Epochs per training of notebook 08 (8 to 12 minutes each on two cores for photos), fixed in advance.
PHOTO_EPOCHS = 30
SAMPLE_EPOCHS = 3


def dataset_fingerprint(root) -> str:
    """12 hex digits that change when any image of train/ or validation/ is added, removed or resized."""
    digest = hashlib.sha256()
    root = Path(root)
    for split in ("train", "validation"):
        for path in sorted((root / split).rglob("*")):
            if path.is_file() and not path.name.startswith("."):
                digest.update(f"{path.relative_to(root).as_posix()}:{path.stat().st_size}\n".encode())
    return digest.hexdigest()[:12]


@dataclass
class Run:
    """One training: validation accuracy and seconds per epoch, parameters, accuracy with TTA."""

    recipe: str
    seed: int
    epochs: int
    parameters: int
    val_accuracy: list[float] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)
    tta_accuracy: float | None = None
    data: str = ""  # dataset_fingerprint of the photos it was trained on

    @property
    def best(self) -> float:
        return max(self.val_accuracy)

    @property
    def best_epoch(self) -> int:
        return self.val_accuracy.index(self.best) + 1

    @property
    def final(self) -> float:
        return self.val_accuracy[-1]

    @property
    def median_seconds(self) -> float:
        """The median epoch's seconds: an epoch slowed by other work on the machine does not move it."""
        return statistics.median(self.seconds)

    def first_reached(self, target: float = TARGET_ACCURACY) -> int | None:
        """The first epoch whose validation accuracy reached ``target``."""
        for epoch, accuracy in enumerate(self.val_accuracy, start=1):
            if accuracy >= target:
                return epoch
        return None

    def save(self, folder: Path) -> Path:
        path = run_path(folder, self.recipe, self.seed, self.epochs)
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".partial")
        partial.write_text(json.dumps(asdict(self), indent=1))
        partial.replace(path)  # a reader never sees half a file
        return path

    @classmethod
    def load(cls, path: Path) -> Run:
        return cls(**json.loads(Path(path).read_text()))


def run_path(folder: Path, recipe: str, seed: int, epochs: int) -> Path:
    return Path(folder) / f"{recipe}_{epochs}epochs_seed{seed}.json"


def load_runs(folder: Path, data: str) -> tuple[list[Run], list[Run]]:
    """The trainings saved in ``folder``: (those made on the photos ``data`` names, those made on others)."""
    runs = [Run.load(path) for path in sorted(Path(folder).glob("*_seed*.json"))]
    return [run for run in runs if run.data == data], [run for run in runs if run.data != data]


def history_run(recipe: str, seed: int, model, history, root) -> Run:
    """A Run from the history of ``model.fit`` with an EpochTimer (which adds each epoch's seconds)."""
    accuracy = [round(float(value), 4) for value in history.history["val_accuracy"]]
    return Run(
        recipe,
        seed,
        len(accuracy),
        model.count_params(),
        accuracy,
        [round(float(value), 2) for value in history.history["seconds"]],
        data=dataset_fingerprint(root),
    )


def table_row(label: str, runs: list[Run], target: float = TARGET_ACCURACY) -> dict:
    """One row of notebook 08's table: accuracies over the seeds, medians of their epochs' seconds."""
    reached = [run.first_reached(target) for run in runs]
    epochs = [epoch for epoch in reached if epoch]
    with_tta = [run.tta_accuracy for run in runs if run.tta_accuracy is not None]
    return {
        "recipe": label,
        "seeds": len(runs),
        "final epoch": compare.summary(run.final for run in runs).split(" (")[0],
        "best epoch (picked on validation)": compare.summary(run.best for run in runs).split(" (")[0],
        "final, with TTA": compare.summary(with_tta).split(" (")[0] if with_tta else "",
        f"epoch to {target:.2f}": (
            f"{statistics.median(epochs):g}"
            + (f" ({len(epochs)} of {len(runs)})" if len(epochs) < len(runs) else "")
            if epochs
            else "never"
        ),
        "parameters": f"{runs[0].parameters:,}",
        "s per epoch (quietest seed)": round(quiet_seconds(runs), 1),
    }


def quiet_seconds(runs: list[Run]) -> float:
    """Seconds per epoch: the median epoch of the quickest seed.

    Other work on the machine only ever slows a training down, whether for a
    few epochs or for a whole run: the quickest seed's median is the closest
    to what the recipe costs on a quiet machine.
    """
    return min(run.median_seconds for run in runs)


def finals(runs: list[Run]) -> list[float]:
    return [run.final for run in runs]


def grouped(runs: list[Run]) -> dict[tuple[str, int], list[Run]]:
    """Runs by (recipe, epochs): the seeds of one recipe trained for one length."""
    groups: dict[tuple[str, int], list[Run]] = {}
    for run in runs:
        groups.setdefault((run.recipe, run.epochs), []).append(run)
    return groups


def label(recipe: str, epochs: int, usual_epochs: int) -> str:
    """A recipe's name, with its length when it is not the usual one."""
    return recipe if epochs == usual_epochs else f"{recipe}, {epochs} epochs"


def step_lines(runs: list[Run], order: list[str], epochs: int) -> list[str]:
    """Each recipe's change of the final-epoch accuracy from the one before it, with interval and verdict.

    Recipes not trained are skipped: the change is then from the last one
    trained before it, and the line says how many steps it spans.
    """
    groups = grouped(runs)
    present = [name for name in order if (name, epochs) in groups]
    lines = []
    for before, after in zip(present, present[1:], strict=False):
        difference = compare.seed_difference(finals(groups[before, epochs]), finals(groups[after, epochs]))
        steps = order.index(after) - order.index(before)
        spans = f" ({steps} steps)" if steps > 1 else ""
        lines.append(f"{before:>9} -> {after + spans:<20} {difference}  {compare.verdict(difference)}")
    return lines


def notebook04_runs(
    results: Path, title: str, fingerprint: str, parameters: int
) -> tuple[list[Run], list[str]]:
    """Notebook 04's trainings of the blog's recipe on these photos, as Runs named "notebook 04".

    Seed 0 is notebook 04's own run (results/training_log.csv, made on the
    photos its metrics.json names); seeds 1 and 2 come from
    ``tasks.py seeds`` (results/blog_seeds/), with the same number of epochs.
    Returns the runs and, for each training left out, why.
    """
    from .training import TrainingFiles, finished_seed_logs, read_log

    files = TrainingFiles(Path(results))
    metrics_path = Path(results) / "metrics.json"
    if not files.log.exists() or not metrics_path.exists():
        return [], []
    metrics = json.loads(metrics_path.read_text())
    if metrics.get("dataset_title") != title:
        return [], [f"notebook 04's run: trained on {metrics.get('dataset_title', 'unrecorded photos')}"]
    logs = {int(metrics.get("seed", 0)): read_log(files.log)}
    epochs = len(logs[next(iter(logs))]["epoch"])
    other_seeds, left_out = finished_seed_logs(results, epochs, fingerprint)
    logs.update(other_seeds)
    runs = [
        Run("notebook 04", seed, epochs, parameters, log["val_accuracy"], log["seconds"], data=fingerprint)
        for seed, log in sorted(logs.items())
    ]
    return runs, [f"notebook 04's {reason}" for reason in left_out]


def goal_verdicts(runs: list[Run], blog_runs: list[Run], networks: dict[str, str], epochs: int) -> list[str]:
    """Each goal of notebook 08 from final-epoch accuracies over seeds, with the interval that decides it.

    ``networks`` maps recipe names to their network ("blog" or "modern");
    the recipe "blog" itself, the starting point, does not count for goal 1.
    Only trainings of the fixed length ``epochs`` count. ``blog_runs`` are
    notebook 04's trainings (notebook04_runs), the yardstick of goal 3.
    """
    groups = {key: found for key, found in grouped(runs).items() if key[1] == epochs}
    lines = []
    for number, (network, goal) in enumerate(
        (("blog", BLOG_NETWORK_GOAL), ("modern", MODERN_NETWORK_GOAL)), 1
    ):
        candidates = {
            name: found
            for (name, _), found in groups.items()
            if networks.get(name) == network and name != "blog"
        }
        if not candidates:
            lines.append(f"Goal {number}: no training of the {network} network's recipes yet.")
            continue
        name = max(
            candidates,
            key=lambda name: (
                len(candidates[name]) >= compare.MIN_SEEDS,
                compare.mean_and_sd(finals(candidates[name]))[0],
            ),
        )
        values = finals(candidates[name])
        interval = compare.mean_interval(values)
        span = "" if len(values) < 2 else f", 95% interval [{interval.low:.3f}, {interval.high:.3f}]"
        lines.append(
            f"Goal {number}, {goal:.2f} with the {network} network: {compare.against_goal(values, goal)}. "
            f"{name!r}: final-epoch accuracy {compare.summary(values)}{span}."
        )
    lines.append(_time_line(groups, blog_runs))
    return lines


def _time_line(groups: dict[tuple[str, int], list[Run]], blog_runs: list[Run]) -> str:
    """Goal 3: the quickest recipe's time to the target as a share of the blog recipe's.

    A time is the median over seeds of the epochs to the target, times the
    quietest seed's median epoch. A blog seed that never reached the target
    counts with its whole training, so its time is then a lower bound, and
    the share an upper bound: enough to say "within", not "outside".
    """
    target = f"{TARGET_ACCURACY:.2f}"
    if not blog_runs:
        return "Goal 3: no training of notebook 04 on these photos, so there is no blog time to compare with."
    blog_epochs = [run.first_reached() or run.epochs for run in blog_runs]
    never = sum(run.first_reached() is None for run in blog_runs)
    blog_seconds = statistics.median(blog_epochs) * quiet_seconds(blog_runs)
    shares = {}
    for (name, _), found in groups.items():
        reached = [run.first_reached() for run in found if run.first_reached()]
        if len(reached) == len(found):  # every seed got there
            shares[name] = (statistics.median(reached) * quiet_seconds(found) / blog_seconds, len(found))
    if not shares:
        return f"Goal 3, {target} in half the time: no recipe here reached {target} with every seed."
    name = min(shares, key=lambda name: shares[name][0])
    share, seeds = shares[name]
    blog = f"{len(blog_runs)} seed(s) of notebook 04"
    if never:
        blog += f", {never} of which never reached {target} and count with all {blog_runs[0].epochs} epochs"
        verdict = (
            "within the goal" if share <= TIME_GOAL else "cannot tell, since the blog's time is a lower bound"
        )
        amount = f"at most {share:.2f}"
    else:
        verdict = f"{'within' if share <= TIME_GOAL else 'outside'} the goal"
        amount = f"{share:.2f}"
    return (
        f"Goal 3, {target} in half the time: {name!r} needs {amount} of the blog recipe's time (median "
        f"over {seeds} seed(s) of the epochs to {target}, times the quietest seed's median epoch; the "
        f"blog's recipe likewise over {blog}). Timed epoch by epoch in separate runs, not side by side: "
        f"{verdict}, a hint rather than a verdict."
    )


def markdown_table(rows: list[dict]) -> str:
    """Rows of table_row as a Markdown table, for IPython.display.Markdown."""
    if not rows:
        return "No trainings yet."
    columns = list(rows[0])
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(str(row[column]) for column in columns) + " |" for row in rows]
    return "\n".join(lines)
