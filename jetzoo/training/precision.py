"""Whether this CPU computes bfloat16 natively, for `--trainer.precision bf16-mixed` on a CPU (issue 21).

With AVX512-BF16 or AMX-BF16 (x86) or the BF16 extension (ARM), oneDNN runs bf16 products natively (on
this machine a 128-wide linear at ~180 GFLOP/s against 43 in fp32 through MKL). Without them, PyTorch
emulates bf16 by converting to fp32 and back: slower than plain fp32, a slowdown a user would not notice.
"""

from __future__ import annotations

import functools
import platform

NATIVE_FLAGS = ("avx512_bf16", "amx_bf16", "bf16")  # /proc/cpuinfo: x86 flags, then ARM's Features entry


@functools.cache
def cpu_bf16() -> bool | None:
    """True or False from /proc/cpuinfo's flags; None where they cannot be read (not Linux)."""
    try:
        with open("/proc/cpuinfo") as f:
            text = f.read()
    except OSError:
        return None
    flags = set()
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key.strip() in ("flags", "Features"):
            flags.update(value.split())
    return any(flag in flags for flag in NATIVE_FLAGS)


def cpu_bf16_problem() -> str | None:
    """Why bf16 should not be used on this CPU, or None when it may."""
    if cpu_bf16() is False:
        return (f"this {platform.machine()} CPU has no native bfloat16 ({', '.join(NATIVE_FLAGS[:2])} or ARM bf16 "
                "in /proc/cpuinfo), so bf16 would be emulated and slower than fp32")
    return None
