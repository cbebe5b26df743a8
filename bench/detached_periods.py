"""How the pretrained CALNet scores a detached binary against its orbital period, at 2 minutes.

A detached binary like CM Dra (TIC 199574208: 45%-deep one-hour eclipses every 0.63
d, which the model scores near the threshold) is injected into the 2-minute light
curves of two quiet held-out stars (TIC 29829699 and 55452078, test stars of the
shipped model) at periods from 0.5 to 12 days, and scored with the survey's
resampling (``binned``) and with the least-squares spline (``adaptive``, the default
until 2026-12-01). The binary: fractional radii 0.03 and 0.027, inclination 89.5
degrees, surface brightness ratio 0.9.

Run: .venv/bin/python bench/detached_periods.py
"""

from __future__ import annotations

from ebscan.config import PreprocessConfig
from ebscan.learn.pretrained import pretrained_model
from ebscan.lightcurves.io import read_lightcurve
from ebscan.lightcurves.preprocess import preprocess_lightcurve
from ebscan.sim.eclipses import Binary, binary_flux
from ebscan.sim.injection import inject
from ebscan.survey.inference import load_predictor, score_results

from periods import SPOC
from results import record

PERIODS = (0.5, 0.7, 0.9, 1.1, 1.27, 1.4, 1.7, 2.0, 2.5, 3.0, 6.0, 12.0)
HOSTS = {
    29829699: "tess2018206045859-s0001-0000000029829699-0120-s_lc.fits",
    55452078: "tess2018206045859-s0001-0000000055452078-0120-s_lc.fits",
}
MODES = ("binned", "adaptive")
CADENCE_DAYS = 2 / 1440


def main() -> None:
    predictor = load_predictor(pretrained_model())
    hosts = {tic: read_lightcurve(SPOC / name) for tic, name in HOSTS.items()}
    rows = []
    for mode in MODES:
        config = PreprocessConfig(spline_mode=mode)
        for tic, host in hosts.items():
            scores = []
            for period in PERIODS:
                binary = Binary(
                    period=period, t0=float(host.time[0]) + 0.3 * period, radius_1=0.03,
                    radius_2=0.027, surface_brightness_ratio=0.9, inclination=89.5,
                )  # fmt: skip
                relative = binary_flux(binary, host.time, exposure_days=CADENCE_DAYS)
                result = preprocess_lightcurve(inject(host, relative, period=period), config)
                _, files = score_results(predictor, [result])
                scores.append(f"{float(files[0]['max_score']):.2f}")
            rows.append([f"`{mode}`, TIC {tic}", *scores])
    record(
        "Detached binaries against their period at 2 minutes (bench/detached_periods.py)",
        ["resampling, host", *(f"{p:g} d" for p in PERIODS)],
        rows,
        "Score of the shipped model (the light curve's best segment) for a detached "
        "binary (fractional radii 0.03 and 0.027, 89.5 degrees, surface brightness "
        "ratio 0.9) injected into a quiet held-out 2-minute star, per period.",
    )


if __name__ == "__main__":
    main()
