"""The reference: explicit sums over all cadences for every frequency."""

from __future__ import annotations

import numpy as np

#: Frequencies per block, so the (block x cadences) phase matrix stays in cache-sized memory.
_BLOCK = 32


def gls_sums_direct(
    time: np.ndarray, flux: np.ndarray, omega: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """O(N x M) direct sums in float64; slow but exact to round-off."""
    n = time.size
    mean_exp = np.empty(omega.size, dtype=np.complex128)
    mean_flux_exp = np.empty_like(mean_exp)
    mean_exp2 = np.empty_like(mean_exp)
    for start in range(0, omega.size, _BLOCK):
        block = slice(start, start + _BLOCK)
        phase = np.outer(omega[block], time)
        cos, sin = np.cos(phase), np.sin(phase)
        mean_exp[block] = (cos.sum(axis=1) + 1j * sin.sum(axis=1)) / n
        mean_flux_exp[block] = (cos @ flux + 1j * (sin @ flux)) / n
        # cos(2x) and sin(2x) from the double-angle formulas: no second pass of trig calls.
        mean_exp2[block] = ((cos * cos - sin * sin).sum(axis=1) + 2j * (cos * sin).sum(axis=1)) / n
    return mean_exp, mean_flux_exp, mean_exp2
