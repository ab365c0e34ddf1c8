"""scripts/benchmark.py runs and writes what it promises; timing itself is never asserted."""

from __future__ import annotations

import json
import subprocess

import pytest

from conftest import run_main, run_script
from deconv.benchmark import COMPUTE, VARIANT_KEYS, format_table, summary_lines
from deconv.benchmark.selection import usable_count
from deconv.data.sample import generate_sample
from deconv.paths import REPO_ROOT

SCRIPT = REPO_ROOT / "scripts" / "benchmark.py"
# A bound on one run so a hang fails the test instead of hanging the suite; not a performance check.
TIMEOUT = 240
# A few variants that between them build every kind of source and model.
TINY_VARIANTS = ("idg", "idg_processes", "idg_decoded_nearest", "tfdata", "tfdata_fast", "compute_bf16")


def run_benchmark(*args, env_extra=None) -> subprocess.CompletedProcess:
    return run_script(*args, script=SCRIPT, env_extra=env_extra, timeout=TIMEOUT)


@pytest.fixture(scope="module")
def tiny_data(tmp_path_factory):
    root = tmp_path_factory.mktemp("tiny") / "cats_and_dogs"
    generate_sample(root, train_per_class=8, validation_per_class=4, progress=False)
    return root


@pytest.fixture(scope="module")
def tiny_run(tiny_data, tmp_path_factory):
    """One short run over the tiny sample, found through $DECONV_DATA_DIR like the notebooks find data."""
    output = tmp_path_factory.mktemp("results") / "bench.json"
    result = run_benchmark(
        "--quick",
        "--images", 16, "--batch-sizes", 8, "--repeats", 1,
        "--variants", *TINY_VARIANTS,
        "--output", output,
        env_extra={"DECONV_DATA_DIR": str(tiny_data)},
    )  # fmt: skip
    return result, output


@pytest.mark.parametrize(
    "args",
    [
        ["--batch-sizes", "0"],
        ["--repeats", "two"],
        ["--variants", "no_such_variant"],
        ["--images", "4", "--batch-sizes", "16"],
        ["--output", "results/benchmark.txt"],
        ["--data-dir", "/no/such/folder"],
    ],
    ids=["batch-size-0", "repeats-not-a-number", "unknown-variant", "too-few-images", "not-json", "no-data"],
)
def test_bad_arguments_exit_2(args):
    result = run_main(*args, script=SCRIPT)
    assert result.returncode == 2
    assert "error" in result.stderr


def test_a_folder_in_the_wrong_layout_exits_2(tmp_path):
    (tmp_path / "train" / "data").mkdir(parents=True)
    result = run_main("--data-dir", tmp_path, script=SCRIPT)
    assert result.returncode == 2
    assert "error" in result.stderr


@pytest.mark.slow
def test_a_tiny_run_exits_0_and_prints_the_table(tiny_run):
    result, _ = tiny_run
    assert result.returncode == 0, result.stderr[-3000:]
    assert "images/s" in result.stdout and "ratio" in result.stdout
    assert "compute limit" in result.stdout


@pytest.mark.slow
def test_the_json_holds_machine_settings_and_every_figure(tiny_run):
    result, output = tiny_run
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(output.read_text())
    assert {"cpu", "cpu_count", "usable_cores", "versions", "bfloat16"} <= report["machine"].keys()
    assert "tensorflow" in report["machine"]["versions"]
    settings = report["settings"]
    assert settings["batch_sizes"] == [8] and settings["repeats"] == 1 and settings["images_per_epoch"] == 16
    measured = {row["variant"] for row in report["results"]}
    assert measured | report["skipped"].keys() == {COMPUTE, *TINY_VARIANTS}
    assert not measured & report["skipped"].keys()
    for row in report["results"]:
        assert row["batch_size"] == 8
        assert row["images_per_second"] > 0 and row["ratio_to_compute_limit"] > 0
        assert len(row["repetitions"]) == len(row["round_ratios"]) == 1
        if row["variant"].startswith(COMPUTE):
            assert row["pipeline_alone"] is None
        else:
            assert row["pipeline_alone"]["images_per_second"] > 0
    limit = next(row for row in report["results"] if row["variant"] == COMPUTE)
    assert limit["ratio_to_compute_limit"] == 1
    assert set(report["variants"]) == set(VARIANT_KEYS)  # what each variant does and costs


@pytest.mark.slow
def test_the_plot_is_written_beside_the_json(tiny_run):
    result, output = tiny_run
    assert result.returncode == 0, result.stderr[-3000:]
    plot = output.with_suffix(".png")
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.slow
def test_a_given_data_dir_is_read(tiny_data, tmp_path):
    output = tmp_path / "only" / "compute.json"
    result = run_benchmark(
        "--data-dir", tiny_data, "--images", 8, "--batch-sizes", 4, "--repeats", 1,
        "--variants", "compute", "--output", output,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(output.read_text())
    assert [row["variant"] for row in report["results"]] == [COMPUTE]
    assert report["settings"]["images_per_epoch"] == 8


def test_every_batch_size_divides_the_images_used():
    assert usable_count(400, 640, (16, 32)) == 384
    assert usable_count(2000, None, (16,)) == 2000
    assert usable_count(2000, None, (16, 32)) == 1984
    assert usable_count(20, 640, (16, 32)) == 0


def test_table_and_closing_note_name_every_row():
    def row(key, ratio, alone=None, precision="float32"):
        return {
            "variant": key,
            "label": key.replace("_", " "),
            "precision": precision,
            "batch_size": 16,
            "images_per_second": 200 * ratio,
            "ratio_to_compute_limit": ratio,
            "pipeline_alone": None if alone is None else {"images_per_second": alone},
        }

    report = {
        "settings": {"batch_sizes": [16]},
        "results": [row(COMPUTE, 1.0), row("idg", 0.5, 250), row("tfdata_fast", 0.97, 3000)],
        "skipped": {"compute_bf16": "no bfloat16 here"},
    }
    table = format_table(report).splitlines()
    assert len(table) == 2 + 3
    assert table[3].split()[-2:] == ["0.50", "250.0"]
    note = "\n".join(summary_lines(report))
    assert "(1 worker): 0.50 of the limit" in note
    assert "fastest pipeline: tfdata fast, 0.97." in note
    assert "Skipped compute_bf16" in note
    assert "moved by" not in note  # one round: no spread to report
    report["results"][2]["round_ratios"] = [0.91, 1.03]
    assert "a ratio moved by up to 12%" in "\n".join(summary_lines(report))  # 0.12 of 0.97
