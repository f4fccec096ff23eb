"""Counter-based randomness for cost models: a draw depends only on what it is for.

A cost model is a pure function of (seed, trial, level, ...): the same trial seen in another run,
or retrained, must get the same numbers, whatever order the scheduler asks in. Hashing what a draw
is for (``key``, ``counter``) gives that, and costs no random generator per trial.
"""

from __future__ import annotations

__all__ = ["GOLDEN", "MASK64", "key_of", "mix64", "uniforms"]

MASK64 = (1 << 64) - 1
GOLDEN = 0x9E3779B97F4A7C15


def mix64(value: int) -> int:
    """SplitMix64's finalizer: a fast, well-mixed 64-bit hash (Steele, Lea & Flood, 2014)."""
    value = ((value ^ (value >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
    value = ((value ^ (value >> 27)) * 0x94D049BB133111EB) & MASK64
    return value ^ (value >> 31)


def key_of(*parts: int) -> int:
    """One 64-bit key from several integers (a seed, a trial id, ...), each mixed in turn."""
    key = 0
    for part in parts:
        key = mix64((key * GOLDEN + part) & MASK64)
    return key


def uniforms(key: int, counter: int) -> tuple[float, float]:
    """Two independent uniforms in (0, 1) from one hash of (key, counter)."""
    bits = mix64((key + counter * GOLDEN) & MASK64)
    return ((bits >> 32) + 0.5) * 2.0**-32, ((bits & 0xFFFFFFFF) + 0.5) * 2.0**-32
