"""What each training of notebook 08 measured, kept one JSON file per training, and its table and goals."""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path

TARGET_ACCURACY = 0.80  # what the Keras blog reports after 50 epochs
RUNS_DIRNAME = "beyond"  # results/beyond/<recipe>_<E>epochs_seed<N>.json
# The goals of notebook 08, on 2,000 training photos.
BLOG_NETWORK_GOAL = 0.85
MODERN_NETWORK_GOAL = 0.88
TIME_GOAL = 0.5  # reach the target in at most this share of the blog recipe's time


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
    def seconds_per_epoch(self) -> float:
        return sum(self.seconds) / len(self.seconds)

    def first_reached(self, target: float = TARGET_ACCURACY) -> tuple[int, float] | None:
        """The first epoch whose validation accuracy reached ``target``, and the seconds trained by then."""
        for epoch, accuracy in enumerate(self.val_accuracy, start=1):
            if accuracy >= target:
                return epoch, sum(self.seconds[:epoch])
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


def load_runs(folder: Path) -> list[Run]:
    return [Run.load(path) for path in sorted(Path(folder).glob("*_seed*.json"))]


def mean_and_spread(values) -> str:
    """'mean ± sample standard deviation' of several values, the value alone for one."""
    values = list(values)
    mean = sum(values) / len(values)
    if len(values) == 1:
        return f"{mean:.3f}"
    spread = math.sqrt(sum((value - mean) ** 2 for value in values) / (len(values) - 1))
    return f"{mean:.3f} ± {spread:.3f}"


def _first_seed(runs: list[Run]) -> Run:
    return min(runs, key=lambda run: run.seed)


def table_row(label: str, runs: list[Run], target: float = TARGET_ACCURACY) -> dict:
    """One row of notebook 08's table: accuracies over the seeds, times from the lowest seed."""
    first = _first_seed(runs)
    reached = first.first_reached(target)
    return {
        "recipe": label,
        "seeds": len(runs),
        "best": mean_and_spread(run.best for run in runs),
        "final": mean_and_spread(run.final for run in runs),
        "with TTA": mean_and_spread(run.tta_accuracy for run in runs) if first.tta_accuracy else "",
        f"epoch to {target:.2f}": reached[0] if reached else "never",
        f"seconds to {target:.2f}": round(reached[1]) if reached else "never",
        "parameters": f"{first.parameters:,}",
        "s per epoch": round(first.seconds_per_epoch, 1),
    }


def mean_best(runs: list[Run]) -> float:
    return sum(run.best for run in runs) / len(runs)


def grouped(runs: list[Run]) -> dict[tuple[str, int], list[Run]]:
    """Runs by (recipe, epochs): the seeds of one recipe trained for one length."""
    groups: dict[tuple[str, int], list[Run]] = {}
    for run in runs:
        groups.setdefault((run.recipe, run.epochs), []).append(run)
    return groups


def label(recipe: str, epochs: int, usual_epochs: int) -> str:
    """A recipe's name, with its length when it is not the usual one."""
    return recipe if epochs == usual_epochs else f"{recipe}, {epochs} epochs"


def goal_verdicts(runs: list[Run], blog_run: Run | None, networks: dict[str, str], epochs: int) -> list[str]:
    """Each goal of notebook 08, reached or not, with the figures that decide it.

    ``networks`` maps recipe names to their network ("blog" or "modern");
    the recipe "blog" itself, the starting point, does not count for goal 1.
    Longer trainings count, named with their length.
    """
    groups = grouped(runs)
    lines = []
    for number, (network, goal) in enumerate(
        (("blog", BLOG_NETWORK_GOAL), ("modern", MODERN_NETWORK_GOAL)), 1
    ):
        candidates = {
            key: found
            for key, found in groups.items()
            if networks.get(key[0]) == network and key[0] != "blog"
        }
        if not candidates:
            lines.append(f"Goal {number}: no training of the {network} network's recipes yet.")
            continue
        key = max(candidates, key=lambda key: mean_best(candidates[key]))
        best = mean_best(candidates[key])
        verdict = "reached" if best >= goal else "not reached"
        name = label(*key, epochs)
        lines.append(
            f"Goal {number}, {goal:.2f} with the {network} network: {verdict}. Best: {name!r}, "
            f"best validation accuracy {best:.3f} (mean of {len(candidates[key])} seed(s), {key[1]} epochs)."
        )
    lines.append(_time_verdict(groups, blog_run, epochs))
    return lines


def _time_verdict(groups: dict[tuple[str, int], list[Run]], blog_run: Run | None, epochs: int) -> str:
    if blog_run is None:
        return "Goal 3: notebook 04's log is missing, so there is no blog time to compare with."
    reached = {key: _first_seed(found).first_reached() for key, found in groups.items()}
    reached = {key: value for key, value in reached.items() if value}
    blog = blog_run.first_reached()
    blog_seconds = blog[1] if blog else sum(blog_run.seconds)
    target = f"{TARGET_ACCURACY:.2f}"
    if blog:
        blog_words = f"the blog's recipe reached {target} after {blog_seconds:.0f} s"
    else:
        blog_words = (
            f"the blog's recipe never reached {target} in {blog_run.epochs} epochs ({blog_seconds:.0f} s)"
        )
    if not reached:
        return f"Goal 3, {target} in half the time: not reached; no recipe here reached it; {blog_words}."
    key = min(reached, key=lambda key: reached[key][1])
    epoch, seconds = reached[key]
    share = seconds / blog_seconds
    verdict = "reached" if share <= TIME_GOAL else "not reached"
    bound = "" if blog else " (at most, as the blog's recipe had not reached it when it stopped)"
    return (
        f"Goal 3, {target} in half the time: {verdict}. Fastest: {label(*key, epochs)!r}, epoch {epoch}, "
        f"{seconds:.0f} s; {blog_words}: {share:.2f} of its time{bound}."
    )


def markdown_table(rows: list[dict]) -> str:
    """Rows of table_row as a Markdown table, for IPython.display.Markdown."""
    if not rows:
        return "No trainings yet."
    columns = list(rows[0])
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(str(row[column]) for column in columns) + " |" for row in rows]
    return "\n".join(lines)
