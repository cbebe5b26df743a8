"""The morphology table of ebscan.survey.geometry, and how ebscan's geometry compares with Prsa's.

1. From the Prsa et al. (2022) catalogue: the systems with two-Gaussian widths
   (``Wp-2g``, ``Ws-2g``; twice ``Wp-2g`` without a secondary) and a morphology
   coefficient, in 20 equally populated bins of total width; each bin's median width
   and median coefficient make :data:`ebscan.survey.geometry.MORPHOLOGY_TABLE` (printed here
   to paste), and the rank correlation says how much the width alone tells.
2. On the shared 2-minute light curves of Prsa-catalogued stars whose period ebscan
   finds (within 1%): ebscan's primary depth, widths, secondary phase and morphology
   against Prsa's two-Gaussian columns.
3. The centroid test on every shared 2-minute light curve of a Prsa-catalogued star
   (all on target, as far as anyone knows): the eclipsing source's offset from the
   target and how many are flagged as blends.

Run: .venv/bin/python bench/morphology.py
"""

from __future__ import annotations

import itertools

import numpy as np
from scipy.stats import spearmanr

from ebscan.labels.catalogs import read_prsa2022
from ebscan.survey.candidates import characterise
from ebscan.survey.geometry import MORPHOLOGY_TABLE

from periods import SHARED, spoc_set
from results import record


def prsa_columns() -> dict[str, np.ndarray]:
    table = read_prsa2022(SHARED / "catalogs" / "prsa2022_tess_ebs")
    names = ("TIC", "Per", "Morph", "Wp-2g", "Ws-2g", "Dp-2g", "Ds-2g", "Phip-2g", "Phis-2g")
    return {n: np.asarray(np.ma.filled(table[n].astype(float), np.nan)) for n in names}


def morphology_table(prsa: dict[str, np.ndarray]) -> tuple[list[tuple[float, float]], float, int]:
    total = np.where(np.isfinite(prsa["Ws-2g"]), prsa["Wp-2g"] + prsa["Ws-2g"], 2 * prsa["Wp-2g"])
    keep = np.isfinite(total) & (prsa["Morph"] >= 0)
    total, morph = total[keep], prsa["Morph"][keep]
    edges = np.quantile(total, np.linspace(0, 1, 21))
    table = []
    for lo, hi in itertools.pairwise(edges):
        inside = (total >= lo) & (total <= hi)
        table.append(
            (round(float(np.median(total[inside])), 4), round(float(np.median(morph[inside])), 3))
        )
    return table, float(spearmanr(total, morph).correlation), int(keep.sum())


def main() -> None:
    prsa = prsa_columns()
    table, rho, n = morphology_table(prsa)
    print(f"MORPHOLOGY_TABLE from {n} systems (Spearman rho {rho:.3f}):")
    print("\n".join(f"    {pair}," for pair in table))
    if tuple(table) != MORPHOLOGY_TABLE:
        print("ebscan.survey.geometry.MORPHOLOGY_TABLE differs from this: paste the table above")
    row_of = {int(t): i for i, t in reversed(list(enumerate(prsa["TIC"])))}
    rows = []
    offsets = []
    for item in spoc_set():
        result = characterise([str(item["file"])])
        c = result.columns
        offsets.append((c["source_offset"], c["source_offset_sigma"], c["flag_blend"]))
        if item["label"] != "EB":
            continue
        if not np.isfinite(c["period"]) or abs(c["period"] / item["period"] - 1) > 0.01:
            continue
        i = row_of[item["tic"]]
        prsa_secondary = (prsa["Phis-2g"][i] - prsa["Phip-2g"][i]) % 1.0
        rows.append(
            [
                f"{item['tic']} s{item['file'].name.split('-')[1][1:]}",
                f"{1e3 * prsa['Dp-2g'][i]:.0f} / {c['primary_depth']:.0f}",
                f"{prsa['Wp-2g'][i]:.3f} / {c['primary_width']:.3f}",
                f"{prsa_secondary:.3f} / {c['secondary_phase']:.3f}",
                f"{prsa['Morph'][i]:.2f} / {c['morphology']:.2f}",
            ]
        )
    morph_pairs = [tuple(float(x) for x in r[4].split(" / ")) for r in rows]
    difference = np.median([abs(a - b) for a, b in morph_pairs])
    record(
        "Eclipse geometry against Prsa 2022 (bench/morphology.py)",
        ["light curve", "primary depth ppt", "primary width", "secondary phase", "morphology"],
        rows,
        f"Each cell: Prsa et al. 2022 (two-Gaussian columns, morphology) / ebscan, for the "
        f"shared 2-minute EB light curves whose period ebscan finds. Median morphology "
        f"difference {difference:.2f}. The morphology table maps the total two-Gaussian "
        f"width onto Prsa's coefficient: medians of 20 equally populated bins of {n} Prsa "
        f"systems (Spearman rho between total width and morphology {rho:.2f}).",
    )

    measured = [o for o in offsets if np.isfinite(o[0])]
    record(
        "Centroid test on the real 2-minute EBs (bench/morphology.py)",
        ["light curves", "tested", "median offset (arcsec)", "largest offset", "flagged"],
        [
            [
                str(len(offsets)),
                str(len(measured)),
                f"{np.median([o[0] for o in measured]):.1f}",
                f"{max(o[0] for o in measured):.1f}",
                str(sum(o[2] for o in offsets)),
            ]
        ],
        "The shared 2-minute light curves of Prsa-catalogued stars (EBs and planet "
        "hosts), each alone: the eclipsing source's distance from the target's position "
        "(the aperture's WCS at the proper-motion-corrected RA/Dec). A blend is flagged "
        "at 3 standard errors and 0.5 pixel (10.5 arcsec).",
    )


if __name__ == "__main__":
    main()
