"""Fixtures shared by the data tests: a loopback HTTP server, test archives,
and runners for the scripts, as a subprocess or in this process."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

TESTS_DIR = Path(__file__).resolve().parent
REPO_ROOT = TESTS_DIR.parent
SCRIPT = REPO_ROOT / "scripts" / "download_data.py"
if str(TESTS_DIR) not in sys.path:  # the helper modules beside this file
    sys.path.insert(0, str(TESTS_DIR))

import archives  # noqa: E402
from servers import ArchiveServer  # noqa: E402

# A bound on any one run of the script, so a hang fails the test instead of
# hanging the suite. Not a performance assertion: runs take a few seconds.
SCRIPT_TIMEOUT = 300


def script_environment(env_extra=None) -> dict[str, str]:
    """A script's variables: this process's, without DECONV_DATA_DIR (a script sees only the data
    a test gives it), TensorFlow's start-up lines off, and ``env_extra``."""
    env = dict(os.environ)
    env.pop("DECONV_DATA_DIR", None)
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    env.update(env_extra or {})
    return env


def load_script(path: Path):
    """A script as a module, without running it (scripts do no work at import time)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(f"script_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run_script(*args, script: Path = SCRIPT, env_extra=None, timeout=SCRIPT_TIMEOUT):
    """Run a script (scripts/download_data.py unless told) with ``args`` (converted to str).

    The environment's DECONV_DATA_DIR is dropped, so the script sees only what
    the test gives it.
    """
    return subprocess.run(
        [sys.executable, str(script), *map(str, args)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=script_environment(env_extra),
    )


def run_main(*args, script: Path, env_extra=None) -> subprocess.CompletedProcess:
    """Call a script's ``main(argv)`` in this process, as `run_script` runs it in a new one.

    For the paths that end in an error message: they need no TensorFlow start-up of their own,
    which costs seconds per run. The script's output, its exit status and the variables it
    reads are those a separate run would see.
    """
    import contextlib
    import io
    from unittest import mock

    module = load_script(script)
    stdout, stderr = io.StringIO(), io.StringIO()
    with mock.patch.dict(os.environ, script_environment(env_extra), clear=True), contextlib.chdir(REPO_ROOT):
        with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
            try:
                code = module.main([str(arg) for arg in args])
            except SystemExit as exit:  # argparse's errors
                code = exit.code
    command = [str(script), *map(str, args)]
    return subprocess.CompletedProcess(command, code or 0, stdout.getvalue(), stderr.getvalue())


@pytest.fixture
def server():
    srv = ArchiveServer()
    try:
        yield srv
    finally:
        srv.close()


@pytest.fixture(scope="session")
def jpegs() -> list[bytes]:
    return archives.rgb_jpegs(6)


@pytest.fixture(scope="session")
def odd_images() -> dict[str, bytes]:
    return archives.odd_images()


@pytest.fixture(scope="session")
def test_archives(tmp_path_factory, jpegs, odd_images):
    """Zips shaped like the real archives, written once per session."""
    folder = tmp_path_factory.mktemp("archives")
    filtered = archives.write_zip(folder / "cats_and_dogs_filtered.zip", archives.filtered_members(jpegs))
    petimages = archives.write_zip(
        folder / "kagglecatsanddogs_5340.zip",
        archives.petimages_members(jpegs, odd_images),
        compression=zipfile.ZIP_DEFLATED,
    )
    return {
        "filtered": filtered,
        "filtered_sha256": archives.sha256_of(filtered),
        "full": petimages,
        "full_sha256": archives.sha256_of(petimages),
    }
