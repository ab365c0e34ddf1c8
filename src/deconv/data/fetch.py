"""HTTP download that survives bad networks and verifies what it got.

The archive streams into ``<name>.part``; a dropped connection resumes with an
HTTP Range request; timeouts and server errors are retried with backoff; a
name that does not resolve (no network) fails at once. Only a file that
passes its size and checksum checks is renamed to its final name.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import socket
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

CHUNK_BYTES = 1 << 20
USER_AGENT = "deconvoluting-convolutions-data/1"


class DownloadError(RuntimeError):
    """No mirror delivered the file."""


class VerificationError(RuntimeError):
    """A file arrived but is not the one expected."""


@dataclass
class RetryPolicy:
    attempts: int = 4  # per address
    timeout: float = 30.0  # seconds without progress before giving up on a connection
    backoff: float = 2.0  # seconds before the first retry; doubles each time


class _PermanentFailure(Exception):
    """An answer that retrying the same address will not change."""


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK_BYTES):
            digest.update(chunk)
    return digest.hexdigest()


def verify(path: Path, *, size: int | None, sha256: str | None) -> str:
    """Check size and checksum; return the sha256. Raises VerificationError."""
    actual_size = path.stat().st_size
    if size is not None and actual_size != size:
        raise VerificationError(f"{path.name} is {actual_size:,} bytes, expected {size:,}")
    actual = sha256_of(path)
    if sha256 is not None and actual != sha256.lower():
        raise VerificationError(f"{path.name} has sha256 {actual}, expected {sha256.lower()}")
    return actual


def _progress_bar(total: int | None, initial: int, label: str, enabled: bool):
    from tqdm.auto import tqdm

    return tqdm(
        total=total,
        initial=initial,
        unit="B",
        unit_scale=True,
        unit_divisor=1024,
        desc=label,
        disable=not enabled,
        leave=False,
    )


def _fetch_once(url: str, part: Path, timeout: float, progress: bool) -> None:
    """One HTTP request, appending to ``part`` from where it stopped."""
    offset = part.stat().st_size if part.exists() else 0
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
    if offset:
        request.add_header("Range", f"bytes={offset}-")
    try:
        response = urllib.request.urlopen(request, timeout=timeout)
    except urllib.error.HTTPError as error:
        if error.code == 416 and offset:
            # Range past the end: the .part is complete already (or bogus);
            # verification decides.
            return
        if error.code in (408, 425, 429) or error.code >= 500:
            raise ConnectionError(f"HTTP {error.code} {error.reason}") from None
        raise _PermanentFailure(f"HTTP {error.code} {error.reason}") from None
    except urllib.error.URLError as error:
        if isinstance(error.reason, socket.gaierror):
            raise _PermanentFailure(f"cannot resolve host ({error.reason.strerror})") from None
        raise ConnectionError(str(error.reason)) from None
    with response:
        status = response.status
        if offset and status == 200:
            offset = 0  # server ignored the Range header: start over
        elif offset and status == 206:
            content_range = response.headers.get("Content-Range", "")
            if not content_range.startswith(f"bytes {offset}-"):
                part.unlink()
                raise ConnectionError(f"server resumed at the wrong place ({content_range!r}); starting over")
        length = response.headers.get("Content-Length")
        total = offset + int(length) if length and length.isdigit() else None
        mode = "ab" if offset else "wb"
        with open(part, mode) as out, _progress_bar(total, offset, part.stem, progress) as bar:
            while True:
                chunk = response.read(CHUNK_BYTES)
                if not chunk:
                    break
                out.write(chunk)
                bar.update(len(chunk))
        if total is not None and part.stat().st_size < total:
            raise ConnectionError(f"connection closed after {part.stat().st_size:,} of {total:,} bytes")


def download(
    urls: list[str] | tuple[str, ...],
    destination: Path,
    *,
    size: int | None = None,
    sha256: str | None = None,
    policy: RetryPolicy | None = None,
    progress: bool = True,
    log=print,
) -> tuple[str, str]:
    """Download the first address that works to ``destination``.

    Return the file's sha256 and the address that delivered it.

    Raises DownloadError when no address delivers, VerificationError when
    the delivered file is not the expected one (the file is then deleted).
    """
    policy = policy or RetryPolicy()
    destination.parent.mkdir(parents=True, exist_ok=True)
    part = destination.with_name(destination.name + ".part")
    failures = []
    for url in urls:
        last_error = None
        for attempt in range(1, policy.attempts + 1):
            if part.exists() and part.stat().st_size:
                log(f"Resuming {url} at {part.stat().st_size:,} bytes (attempt {attempt})")
            else:
                log(f"Downloading {url} (attempt {attempt})")
            try:
                _fetch_once(url, part, policy.timeout, progress)
                last_error = None
                break
            except _PermanentFailure as error:
                last_error = str(error)
                break
            except (OSError, http.client.HTTPException) as error:  # includes timeouts and resets
                last_error = str(error) or type(error).__name__
                if attempt < policy.attempts:
                    delay = policy.backoff * 2 ** (attempt - 1)
                    log(f"  {last_error}; retrying in {delay:g} s")
                    time.sleep(delay)
        if last_error is None:
            try:
                digest = verify(part, size=size, sha256=sha256)
            except VerificationError:
                part.unlink(missing_ok=True)
                raise
            os.replace(part, destination)
            return digest, url
        # The .part stays: a mirror of the same file, or the next run, resumes it,
        # and verification catches a mismatch.
        failures.append(f"{url}: {last_error}")
    raise DownloadError("; ".join(failures))
