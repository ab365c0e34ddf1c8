"""A benchmark run: every selected variant, at every batch size, in rounds; and the report it writes.

Every figure is images per second through ``model.fit``, one epoch at a time:

- *training*: the tutorial's CNN fed by the pipeline, against the *compute
  limit*, the same training steps on a batch already in memory;
- *pipeline alone*: the same pipeline feeding a model that does almost nothing,
  which shows how fast it could deliver images if training cost nothing.

A warm-up per variant (a few batches to build the training function and
start threads; a whole epoch where a cache must fill) is not timed. Then the
variants take turns, one epoch each, for several rounds: a machine that gets
busier or quieter during the run affects every variant alike. A variant's
images per second is the median over the rounds; its ratio to the compute
limit is the median of the ratios within each round.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ..model import seed_everything
from .feeds import Feeds
from .machine import bfloat16_support, machine_info
from .measure import Timings, idle_model, stage_costs, time_epoch, training_model
from .report import progress_line
from .selection import BenchmarkData, benchmark_data
from .variants import BFLOAT16, COMPUTE, VARIANT_KEYS, VARIANTS, Variant


@dataclass
class Benchmark:
    """One run's settings, and everything it measured."""

    batch_sizes: Sequence[int] = (16, 32)
    repeats: int = 3
    images: int | None = 640
    variants: Sequence[str] = VARIANT_KEYS
    workers: int | None = None
    seed: int = 0
    pipeline_alone: bool = True
    stages: bool = True  # also time each step of a pipeline on its own (a few seconds)
    rows: list[dict] = field(default_factory=list)
    stage_costs: dict[str, float] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)

    def selected(self) -> list[Variant]:
        """The variants to measure, in table order, the compute limit always first."""
        unknown = sorted(set(self.variants) - set(VARIANT_KEYS))
        if unknown:
            raise KeyError(f"unknown variants {', '.join(unknown)}; choose from {', '.join(VARIANT_KEYS)}")
        wanted = {COMPUTE, *self.variants}
        supported, why = bfloat16_support()
        chosen = []
        for item in VARIANTS:
            if item.key not in wanted:
                continue
            if item.precision == BFLOAT16 and not supported:
                self.skipped[item.key] = f"bfloat16 would be emulated, slower than float32: {why}"
            else:
                chosen.append(item)
        return chosen

    def run(self, dataset_root: Path | str, log: Callable[[str], None] = print) -> dict:
        """Measure every selected variant at every batch size on ``dataset_root``; return the report."""
        if self.repeats < 1 or not self.batch_sizes or min(self.batch_sizes) < 1:
            raise ValueError("need at least one repetition and positive batch sizes")
        chosen = self.selected()
        started = time.perf_counter()
        with benchmark_data(dataset_root, self.images, self.batch_sizes, self.seed) as data:
            feeds = Feeds(data, seed=self.seed, workers=self.workers)
            log(
                f"{len(data)} training images per epoch (of {data.available}); batch sizes "
                f"{', '.join(map(str, self.batch_sizes))}; {self.repeats} timed epochs per variant after "
                f"a warm-up; N = {feeds.workers} workers."
            )
            if any(item.feed.startswith("idg_decoded") for item in chosen):
                feeds.decoded()
                log(f"Decoded the {len(data)} images once in {feeds.decode_seconds:.1f} s.")
            if self.stages:
                seed_everything(self.seed)
                self.stage_costs = stage_costs(data.files, seed=self.seed)
            for batch_size in self.batch_sizes:
                self._measure_batch_size(chosen, feeds, batch_size, len(data), log)
                feeds.release()
        return self.report(data, feeds, dataset_root, time.perf_counter() - started)

    def _measure_batch_size(self, chosen, feeds: Feeds, batch_size: int, images: int, log) -> None:
        models, idle_models = {}, {}
        training = {item.key: Timings(images) for item in chosen}
        alone = {item.key: Timings(images) for item in chosen if self._times_alone(item)}

        def model_for(item):
            kind = (item.precision, feeds.augments_in_model(item.key))
            if kind not in models:
                models[kind] = training_model(kind[0], augment=kind[1], seed=self.seed)
            return models[kind]

        def idle_for(item):
            augment = feeds.augments_in_model(item.key)
            if augment not in idle_models:
                idle_models[augment] = idle_model(augment=augment, seed=self.seed)
            return idle_models[augment]

        log(f"Batch size {batch_size}: warming up {len(chosen)} variants...")
        for round_number in range(1 + self.repeats):
            warmup = round_number == 0
            for item in chosen:
                source = feeds.source(item.key, batch_size)
                runs = [(training[item.key], model_for(item))]
                if item.key in alone:
                    runs.append((alone[item.key], idle_for(item)))
                for timings, model in runs:
                    wall, cpu = time_epoch(model, source, feeds.warmup_steps(item.key) if warmup else None)
                    timings.record(wall, cpu, warmup)
            if round_number:
                log(f"  round {round_number} of {self.repeats} done")

        limit = training[COMPUTE].rates
        for item in chosen:
            ratios = [
                rate / reference for rate, reference in zip(training[item.key].rates, limit, strict=True)
            ]
            row = {
                "variant": item.key,
                "label": item.label.replace(" N ", f" {feeds.workers} "),
                "precision": item.precision,
                "batch_size": batch_size,
                **training[item.key].summary(),
                "ratio_to_compute_limit": round(statistics.median(ratios), 3),
                "round_ratios": [round(ratio, 3) for ratio in ratios],
                "pipeline_alone": alone[item.key].summary() if item.key in alone else None,
            }
            self.rows.append(row)
            log(progress_line(row))

    def _times_alone(self, item: Variant) -> bool:
        """Whether a variant is also timed feeding the idle model (a compute limit feeds nothing)."""
        return self.pipeline_alone and not item.key.startswith(COMPUTE)

    def report(self, data: BenchmarkData, feeds: Feeds, dataset_root, seconds: float) -> dict:
        import tensorflow as tf

        return {
            "machine": machine_info(),
            "settings": {
                "data": str(dataset_root),
                "images_per_epoch": len(data),
                "training_images_available": data.available,
                "image_limit": self.images,
                "batch_sizes": list(self.batch_sizes),
                "repeats": self.repeats,
                "workers": feeds.workers,
                "seed": self.seed,
                "op_determinism": True,  # seed_everything, as in the notebooks
                "tf_threads": {
                    "intra_op": tf.config.threading.get_intra_op_parallelism_threads(),
                    "inter_op": tf.config.threading.get_inter_op_parallelism_threads(),
                },
                "cpu_ms_per_image": (
                    "CPU time of this process's threads per image; the worker processes of "
                    "idg_processes are not counted"
                ),
                "method": (
                    "an untimed warm-up per variant (a few batches; a whole epoch where a cache fills), "
                    "then the variants take turns, one epoch each, "
                    "for `repeats` rounds; images/s is the median over rounds, the ratio the median of "
                    "each round's ratio to that round's compute limit (same batch size)"
                ),
            },
            "decode_once_seconds": None if feeds.decode_seconds is None else round(feeds.decode_seconds, 3),
            "stage_cpu_ms_per_image": {name: round(ms, 3) for name, ms in self.stage_costs.items()},
            "seconds": round(seconds, 1),
            "variants": {
                item.key: {
                    "label": item.label,
                    "description": item.description,
                    "effect_on_learning": item.effect_on_learning,
                }
                for item in VARIANTS
            },
            "results": self.rows,
            "skipped": self.skipped,
        }
