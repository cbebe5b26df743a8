"""Same-padded convolutions of a tile as discrete Fourier transforms: the matrices
of :func:`dft_convolution` and what they cost.
"""

from __future__ import annotations

import numpy as np


def dft_convolution(kernel: np.ndarray, m: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Matrices that compute a one-dimensional convolution tile by tile, by Fourier transform.

    For a tile of ``m`` outputs and its ``T = m + k - 1`` input samples ``e``
    (``kernel`` of shape (k, C_in, C_out), Keras's cross-correlation), the outputs
    are ``inverse @ (forward @ e @ weights)`` with the middle product taken per row
    of ``forward``: ``forward`` is the real DFT of length ``T``, ``weights`` the
    kernel's conjugate spectrum and ``inverse`` the inverse DFT of the first ``m``
    samples. No sample wraps around, because a tile's ``T`` inputs cover all that
    its ``m`` outputs read. Each complex product of a frequency takes three real
    matrix products (Gauss's trick, with the sums folded into ``forward``,
    ``weights`` and ``inverse``), so ``P`` = 3 per complex frequency plus 1 per real
    one (zero and, for even ``T``, Nyquist).

    Returns
    -------
    forward : (P, T) array
    weights : (P, C_in, C_out) array
    inverse : (m, P) array
    """
    length = m + kernel.shape[0] - 1
    spectrum = np.conj(np.fft.rfft(kernel.astype(np.float64), n=length, axis=0))
    forward, weights, inverse = [], [], []
    for f, g in enumerate(spectrum):
        angle_in = 2 * np.pi * f * np.arange(length) / length
        angle_out = 2 * np.pi * f * np.arange(m) / length
        if f == 0 or 2 * f == length:
            forward.append(np.cos(angle_in))
            weights.append(g.real)
            inverse.append(np.cos(angle_out) / length)
            continue
        # Input spectrum c + id (c = e.cos, d = -e.sin) times kernel spectrum a + ib:
        # k1 = c(a + b), k2 = a(d - c), k3 = b(c + d); real part k1 - k3, imaginary
        # k1 + k2; a conjugate pair of frequencies doubles the real part of each.
        cos_in, sin_in = np.cos(angle_in), np.sin(angle_in)
        cos_out, sin_out = 2 * np.cos(angle_out) / length, 2 * np.sin(angle_out) / length
        forward += [cos_in, -sin_in - cos_in, cos_in - sin_in]
        weights += [g.real + g.imag, g.real, g.imag]
        inverse += [cos_out - sin_out, -sin_out, -cos_out]
    return np.array(forward), np.array(weights), np.array(inverse).T


def dft_cost(size: int, sub: int, channels_in: int, channels_out: int) -> float:
    """Multiplications per output sample and channel of a convolution by
    :func:`dft_convolution` on sub-tiles of ``sub``: transform, products, inverse."""
    length = sub + size - 1
    real = 2 if length % 2 == 0 else 1  # zero and Nyquist frequencies
    terms = 3 * (length // 2 + 1 - real) + real
    transform = terms * length * channels_in / (sub * channels_out)
    return transform + terms * channels_in / sub + terms
