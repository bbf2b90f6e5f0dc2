"""Memory that a huge message used goes back to the system once it is freed (glibc's mmap threshold is fixed by the
CLI at start, see ``mailtrap_lite/malloc_tuning.py``): the allocation pattern of reading one huge message and then
several large ones, with small objects kept alive between them, as the server does."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys

import pytest

# Run in a fresh interpreter: the setting and the allocator's state are per process.
_PATTERN = r"""
import json, sys
from mailtrap_lite.malloc_tuning import return_large_frees

def rss_mib():
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmRSS")) / 1024

tuned = return_large_frees() if sys.argv[1] == "tuned" else False
huge = bytes(30 * 1024 * 1024)  # one huge message read and dropped
del huge
before = rss_mib()
blocks, kept = [], []
for n in range(40):  # forty 2 MiB copies, each followed by a small object that stays
    blocks.append(b"x" * (2 * 1024 * 1024 + n))
    kept.append(bytearray(4096))
blocks.clear()
print(json.dumps({"tuned": tuned, "left_mib": rss_mib() - before}))
"""


def _left_after_freeing(mode: str) -> dict[str, object]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_")}
    out = subprocess.run([sys.executable, "-c", _PATTERN, mode], capture_output=True, text=True, check=True, env=env,
                         timeout=60)
    return json.loads(out.stdout)


@pytest.mark.skipif(platform.system() != "Linux" or platform.libc_ver()[0] != "glibc", reason="glibc only")
def test_large_blocks_freed_after_a_huge_one_leave_the_process() -> None:
    tuned = _left_after_freeing("tuned")
    assert tuned["tuned"] is True
    assert tuned["left_mib"] < 8, tuned  # 80 MiB was allocated and freed (about 20 MiB stays without the setting)


@pytest.mark.skipif(platform.system() != "Linux" or platform.libc_ver()[0] != "glibc", reason="glibc only")
def test_the_environment_setting_wins() -> None:
    env = {**os.environ, "MALLOC_MMAP_THRESHOLD_": "131072"}
    out = subprocess.run([sys.executable, "-c", "from mailtrap_lite.malloc_tuning import return_large_frees as r; "
                          "print(r())"], capture_output=True, text=True, check=True, env=env, timeout=60)
    assert out.stdout.strip() == "False"
