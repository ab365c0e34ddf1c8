#!/usr/bin/env python3
"""Download and prepare the cats-and-dogs photos the tutorial trains on.

Every source ends in the same layout, which the notebooks read:

    <data-dir>/cats_and_dogs/{train,validation}/{cats,dogs}/*.jpg
    <data-dir>/cats_and_dogs/manifest.json   (source, archive checksum, counts,
                                              files left out and why, seed)

Datasets:
  filtered  Google's cats_and_dogs_filtered (default): 1,000 + 1,000 training and
            500 + 500 validation photos, about 69 MB. Checked by size, zip
            integrity and counts (no checksum is published).
  full      Microsoft PetImages, 25,000 photos (825 MB), checked by sha256.
            Unreadable files are left out and listed in the manifest; the rest
            is split by --seed, by default 1,000 training + 400 validation per
            class as in the Keras blog.
  zip       Any other zip of photos laid out as
            [top folder/]{train,validation}/{cats,dogs}/*, given with
            --archive PATH (and --sha256 HEX to check it). Every image is
            decoded: unreadable ones are left out and listed, odd formats
            converted; other folders are not read. The manifest names the zip
            by file name, size and sha256.
  sample    Synthetic drawn cats and dogs made offline from --seed; by default
            200 training + 100 validation per class. For tests, CI and machines
            without internet.
  auto      The dataset already prepared if there is one; else an archive
            already in <data-dir>/downloads; else the sample.

Downloads resume after a dropped connection, retry with backoff, and are kept
in <data-dir>/downloads once verified, so a second run downloads nothing. A
second run with the dataset in place does nothing (for zip: the same file, by
sha256). The dataset is built beside its final place and renamed in only when
complete.

Behind a proxy or offline: download the zip by other means and pass
--archive PATH, or use --dataset sample.

Exit status: 0 done (or nothing to do); 1 download failed; 2 bad arguments;
3 archive failed verification (size or checksum); 4 archive unsafe or corrupt;
5 the data cannot make the dataset asked for (layout, counts, too few
usable photos); 130 interrupted.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

PROG = "download_data.py"
# deconv.cli, which says what to do when the environment is missing, needs only the standard library:
# found in src/ even when this Python is not the project's.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))


def _count(text: str):
    if text == "all":
        return text
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number or 'all', got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def _sha256(text: str) -> str:
    text = text.strip().lower()
    if len(text) != 64 or any(c not in "0123456789abcdef" for c in text):
        raise argparse.ArgumentTypeError("expected 64 hexadecimal digits")
    return text


def build_parser() -> argparse.ArgumentParser:
    from deconv import cli
    from deconv.paths import DEFAULT_DATA_DIR

    parser = cli.parser(PROG, __doc__)
    parser.add_argument(
        "--dataset",
        choices=("filtered", "full", "zip", "sample", "auto"),
        default="filtered",
        help="which photos (default: filtered)",
    )
    parser.add_argument(
        "--archive",
        type=Path,
        metavar="PATH",
        help="use this zip, already on disk, instead of downloading (required with --dataset zip)",
    )
    parser.add_argument(
        "--url",
        action="append",
        default=[],
        metavar="URL",
        help="download from this address instead of the registered mirrors "
        "(repeat for several, tried in order)",
    )
    parser.add_argument(
        "--sha256",
        type=_sha256,
        metavar="HEX",
        help="expected sha256 of the archive; replaces the registered size and checksum "
        "(for a re-packed or mirrored archive); with --dataset zip, checks the zip",
    )
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=DEFAULT_DATA_DIR,
        metavar="DIR",
        help="where data goes (default: the repository's data/)",
    )
    parser.add_argument(
        "--seed", type=int, default=0, help="seed for the sample and for splitting PetImages (default: 0)"
    )
    parser.add_argument(
        "--train-per-class",
        type=_count,
        metavar="N|all",
        help="training images per class (full: 1000, sample: 200)",
    )
    parser.add_argument(
        "--validation-per-class",
        type=_count,
        metavar="N|all",
        help="validation images per class (full: 400, sample: 100)",
    )
    parser.add_argument(
        "--force", action="store_true", help="rebuild the dataset even if it is already in place"
    )
    parser.add_argument(
        "--retries", type=int, default=4, metavar="N", help="attempts per address (default: 4)"
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=30.0,
        metavar="SECONDS",
        help="give up on a silent connection after this long (default: 30)",
    )
    parser.add_argument(
        "--backoff",
        type=float,
        default=2.0,
        metavar="SECONDS",
        help="wait before the first retry, doubled each time (default: 2)",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bars or progress messages")
    return parser


def main(argv: list[str] | None = None) -> int:
    from deconv import cli  # standard library only: importable outside the environment too

    try:
        from deconv.data.archive import ArchiveError
        from deconv.data.arrange import SPLIT_LAYOUT
        from deconv.data.fetch import DownloadError, RetryPolicy, VerificationError
        from deconv.data.prepare import DataError, Request, prepare
        from deconv.layout import DatasetLayoutError
    except ImportError as error:
        return cli.outside_environment(PROG, error)
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.dataset in ("sample", "auto") and (args.archive or args.url or args.sha256):
        parser.error("--archive, --url and --sha256 apply to the filtered, full and zip datasets")
    if args.dataset == "zip" and (args.url or not args.archive):
        # An arbitrary download has no registered size or checksum to check, resume or recognise it by.
        parser.error(f"--dataset zip reads a zip already on disk: --archive PATH, laid out as {SPLIT_LAYOUT}")
    if args.train_per_class == "all" and args.validation_per_class == "all":
        parser.error("--train-per-class and --validation-per-class cannot both be 'all'")
    if args.dataset in ("filtered", "zip") and (args.train_per_class or args.validation_per_class):
        parser.error(
            f"the {args.dataset} dataset comes split already; per-class counts apply to full and sample"
        )
    if args.dataset == "sample" and "all" in (args.train_per_class, args.validation_per_class):
        parser.error("the sample needs whole numbers of images per class")
    if args.retries < 1 or args.timeout <= 0 or args.backoff < 0:
        parser.error("--retries must be at least 1, --timeout positive and --backoff not negative")

    request = Request(
        dataset=args.dataset,
        data_dir=args.data_dir,
        archive=args.archive,
        urls=args.url,
        sha256=args.sha256,
        seed=args.seed,
        train_per_class=args.train_per_class,
        validation_per_class=args.validation_per_class,
        force=args.force,
        progress=not args.quiet,
        policy=RetryPolicy(attempts=args.retries, timeout=args.timeout, backoff=args.backoff),
    )
    log = (lambda *a, **k: None) if args.quiet else (lambda *a, **k: print(*a, **k, flush=True))
    try:
        with cli.sigterm_as_interrupt():
            prepare(request, log=log)
    except DownloadError as error:
        return cli.fail(
            PROG,
            cli.EXIT_FAILED,
            f"could not download the {args.dataset} archive ({error}). "
            "If this machine is offline or behind a proxy, download the zip by other means and pass "
            "--archive PATH, or use --dataset sample for synthetic photos that need no download.",
        )
    except VerificationError as error:
        if args.archive and args.sha256:
            advice = "it is not the file --sha256 names"
        elif args.archive:
            advice = (
                f"it is not the registered {args.dataset} archive. For a zip of photos laid out as "
                f"{SPLIT_LAYOUT}, run with --dataset zip --archive {args.archive}; for a re-packed "
                "copy of the registered archive you trust, pass --sha256 HEX"
            )
        else:
            advice = (
                "the file was not kept. It is damaged or not the registered archive: "
                "try again, or pass --sha256 HEX if it is a re-packed archive you trust"
            )
        return cli.fail(PROG, cli.EXIT_VERIFY, f"{error}; {advice}.")
    except ArchiveError as error:
        return cli.fail(PROG, cli.EXIT_ARCHIVE, f"{error}; nothing was extracted into the dataset.")
    except ImportError as error:  # a library that preparing this dataset needs is missing
        return cli.outside_environment(PROG, error)
    except (DataError, DatasetLayoutError) as error:
        return cli.fail(PROG, cli.EXIT_DATA, f"{error}; no dataset was changed.")
    except KeyboardInterrupt:
        return cli.fail(
            PROG,
            cli.EXIT_INTERRUPTED,
            "interrupted; no dataset was changed (a partial download is kept to resume).",
        )
    except OSError as error:
        return cli.fail(PROG, cli.EXIT_DATA, f"{error}; no dataset was changed.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
