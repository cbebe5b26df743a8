"""GLS implementations: each returns <exp(iwt)>, <y exp(iwt)>, <exp(2iwt)>.

Every function takes centred times, zero-mean flux and angular frequencies and
returns the three complex means from which :func:`ebscan.lightcurves.periodogram.gls`
forms the power, so the methods differ only in how they sum.
"""

from ebscan.lightcurves.periodogram.implementations.direct import gls_sums_direct
from ebscan.lightcurves.periodogram.implementations.nufft import gls_sums_finufft

METHODS = {
    "direct": gls_sums_direct,
    "finufft": gls_sums_finufft,
}

__all__ = ["METHODS", "gls_sums_direct", "gls_sums_finufft"]
