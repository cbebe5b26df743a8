"""Fast exact sums with a type-3 (non-uniform to non-uniform) NUFFT.

The period grid is log-spaced, so the frequencies are not evenly spaced and
FFT-based Lomb-Scargle methods (Press & Rybicki; astropy's ``fast``; nifty-ls)
do not apply. finufft's type-3 transform evaluates sum_j c_j exp(i s_k x_j) for
arbitrary x and s in O(N + M + B log B) with B the space-bandwidth product, to a
requested relative tolerance.
"""

from __future__ import annotations

import finufft
import numpy as np

#: finufft tolerance. On 49 real 2-minute segments it kept the min-max scaled
#: power within 4e-7 of the direct sum (1e-6 left up to 7e-6), at 2.6 ms a segment.
TOLERANCE = 1e-7


def gls_sums_finufft(
    time: np.ndarray, flux: np.ndarray, omega: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Type-3 NUFFT sums: one transform pair of weights (1, y) at (w, 2w), one thread."""
    n, m = time.size, omega.size
    strengths = np.empty((2, n), dtype=np.complex128)
    strengths[0] = 1.0
    strengths[1] = flux
    # <exp(2iwt)> is the unit-weight transform at 2w, so one call with targets
    # (w, 2w) and two strength vectors gives all three means.
    targets = np.concatenate((omega, 2.0 * omega))
    sums = finufft.nufft1d3(time, strengths, targets, eps=TOLERANCE, isign=1, nthreads=1)
    return sums[0, :m] / n, sums[1, :m] / n, sums[0, m:] / n
