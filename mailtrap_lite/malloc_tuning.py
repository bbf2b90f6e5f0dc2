"""glibc's malloc told to give large blocks back to the system when they are freed (the CLI does this at start).

By default glibc serves a block of 128 KiB or more with its own ``mmap`` and unmaps it when it is freed, but each such
free raises that threshold to the freed block's size (up to 32 MiB on 64-bit). After the first huge message has
been read and dropped, every later copy of a message of up to 32 MiB (the DATA chunks and their join, the parser's
strings, a decoded attachment) comes from the heap instead, and what the heap frees between live blocks stays in
the process. Measured on ``python -m bench.soak --quick`` (64 MiB budget, eight 22.5 MiB messages): peak / end RSS
524 / 480 MiB with the dynamic threshold, 297 / 205 MiB with a fixed 1 MiB one.

A fixed threshold (``mallopt(M_MMAP_THRESHOLD)``, which also turns the dynamic one off) of 1 MiB keeps ordinary mail
and every small object on the heap as before, so ingest of small mail does not change; only blocks of 1 MiB or
more cost an ``mmap`` and a ``munmap`` each. ``MALLOC_ARENA_MAX=2`` as well made no difference beyond noise there
(289 / 196 MiB), so the number of arenas is left to glibc.

Only the process's composition root calls this: a library embedding :class:`~mailtrap_lite.server.MailServer`
keeps its own allocator settings. A threshold given in the environment (``MALLOC_MMAP_THRESHOLD_``) wins.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os

MMAP_THRESHOLD = 1024 * 1024
_M_MMAP_THRESHOLD = -3  # from glibc's <malloc.h>


def return_large_frees() -> bool:
    """Set glibc's mmap threshold to ``MMAP_THRESHOLD``; False (nothing done) on another C library, or when the
    environment already sets it."""
    if "MALLOC_MMAP_THRESHOLD_" in os.environ:
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c"))
        if not hasattr(libc, "gnu_get_libc_version"):  # not glibc: its mallopt numbers may mean something else
            return False
        return bool(libc.mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD))
    except (OSError, AttributeError, TypeError):
        return False
