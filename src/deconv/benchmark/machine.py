"""The machine a benchmark runs on: its CPU, the cores this process may use, bfloat16 support."""

from __future__ import annotations

import contextlib
import os
import platform
from pathlib import Path

BF16_FLAGS = ("avx512_bf16", "amx_bf16")  # x86 instructions that make bfloat16 fast on a CPU


def cpu_flags() -> set[str]:
    """The CPU's feature flags from /proc/cpuinfo (empty where there is none, e.g. macOS)."""
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return set()
    for line in text.splitlines():
        if line.startswith(("flags", "Features")):
            return set(line.partition(":")[2].split())
    return set()


def cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.partition(":")[2].strip()
    return platform.processor() or platform.machine() or "unknown"


def usable_cores() -> int:
    """Cores this process may run on (a container or taskset can allow fewer than the machine has)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def bfloat16_support() -> tuple[bool, str]:
    """Whether the CPU computes bfloat16 natively, and how we know.

    Without such instructions TensorFlow emulates bfloat16, slower than
    float32, so the bfloat16 variants are skipped there.
    """
    flags = cpu_flags()
    found = [flag for flag in BF16_FLAGS if flag in flags]
    if found:
        return True, f"the CPU has {' and '.join(found)}"
    if "bf16" in flags:  # Arm, e.g. Graviton 3
        return True, "the CPU has Arm's bf16 extension"
    return False, f"the CPU lists neither {' nor '.join(BF16_FLAGS)} (or /proc/cpuinfo is not readable)"


def machine_info() -> dict:
    from ..environment import library_versions

    supported, why = bfloat16_support()
    return {
        "cpu": cpu_model(),
        "cpu_count": os.cpu_count(),
        "usable_cores": usable_cores(),
        "platform": platform.platform(),
        "bfloat16": {"supported": supported, "why": why},
        "versions": library_versions(),
    }
