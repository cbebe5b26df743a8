"""Periods of known EBs, candidate details, and the vetting page in a real browser."""

from __future__ import annotations

import csv
import re
import shutil

import pytest

from ebscan.candidates import COLUMNS, enrich, write_catalog
from ebscan.cli import main
from ebscan.io import read_lightcurve
from ebscan.periods import estimate_period
from ebscan.resample import clip_top
from ebscan.segments import good_cadences
from ebscan.vetting import merge_decisions, write_vetting_page

from conftest import SPOC

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def prsa_labelled(spoc_dir):
    with open(spoc_dir / "labels.csv") as handle:
        for row in csv.DictReader(handle):
            found = re.search(r"Prsa2022 EB P=([\d.]+)d", row["evidence"])
            if found and row["label"] == "EB":
                yield row["file"], float(found.group(1))


def test_known_periods_are_recovered(spoc_dir):
    """Prsa periods a sector can show (P < 5 d, several eclipses) are found within 1%."""
    chosen = either = n = 0
    for name, period in prsa_labelled(spoc_dir):
        if period > 5:
            continue
        time, flux = clip_top(*good_cadences(read_lightcurve(spoc_dir / name)))
        estimate = estimate_period(time, flux)
        n += 1
        chosen += abs(estimate.period / period - 1) < 0.01
        either += (
            min(abs(p / period - 1) for p in (estimate.period_gls, estimate.period_double)) < 0.01
        )
    assert n == 10
    assert either >= 8  # one of the two reported periods
    assert chosen >= 7  # the one the eclipses support: most (measured: 7 of 10)


def test_enrich_flags_known_ebs_and_draws_plots(spoc_dir, catalogs_dir, tmp_path):
    from ebscan.catalogs import CatalogSet

    cm_dra = str(SPOC / "tess2020106103520-s0024-0000000199574208-0180-s_lc.fits")
    rows = enrich(
        [
            {
                "tic": 199574208,
                "max_score": "0.99",
                "mean_score": "0.97",
                "best_file": cm_dra,
                "best_segment": 1,
                "best_sector": 24,
                "sectors": "24",
                "sectors_above": "24",
            }
        ],
        CatalogSet(catalogs_dir),
        tmp_path / "plots",
    )
    row = rows[0]
    assert row["status"] == "known" and row["in_prsa2022"] == 1
    assert float(row["prsa2022_period"]) == pytest.approx(1.2684, abs=1e-3)
    assert float(row["period_gls"]) * 2 == pytest.approx(float(row["period_double"]))
    assert (tmp_path / row["plot"]).stat().st_size > 10_000
    write_catalog(rows, tmp_path / "c.csv", tmp_path / "c.ecsv")
    from astropy.table import Table

    table = Table.read(tmp_path / "c.ecsv", format="ascii.ecsv")
    assert table["status"][0] == "known"
    assert table["period"].description == COLUMNS["period"]


def candidates_for_page():
    return [
        {
            "tic": tic,
            "max_score": score,
            "mean_score": score - 0.05,
            "period": "1.0",
            "period_supported": "gls",
            "period_gls": "1.0",
            "sectors": "1",
            "sectors_above": "1",
            "status": "new",
            "in_prsa2022": 0,
            "prsa2022_period": "",
            "plot": "",
        }
        for tic, score in ((111, 0.93), (222, 0.99), (333, 0.95))
    ]


@pytest.mark.skipif(
    CHROMIUM is None,
    reason="needs Debian's chromium: `make test` installs it where it runs as root with "
    "apt-get; elsewhere `sudo apt-get install chromium`",
)
def test_vetting_page_accepts_with_a_key_and_exports(tmp_path):
    playwright = pytest.importorskip("playwright.sync_api")
    page_path = tmp_path / "vetting.html"
    write_vetting_page(candidates_for_page(), page_path)
    with playwright.sync_playwright() as driver:
        browser = driver.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--no-first-run",
            ],
        )
        page = browser.new_page(accept_downloads=True)
        page.goto(page_path.as_uri())
        cards = page.locator(".card")
        assert cards.count() == 3
        assert cards.first.get_attribute("data-tic") == "222"  # highest score first
        page.keyboard.press("a")  # accept 222, move to 333
        page.keyboard.press("r")  # reject 333
        page.locator("#tic-111").click()
        page.keyboard.press("u")
        assert page.locator("#tic-222 .decision").inner_text().lower() == "accept"
        page.fill("#minscore", "0.94")
        assert cards.count() == 2
        with page.expect_download() as info:
            page.click("#export")
        exported = tmp_path / "decisions.csv"
        info.value.save_as(exported)
        browser.close()
    assert exported.read_text().splitlines() == [
        "tic,decision",
        "111,unsure",
        "222,accept",
        "333,reject",
    ]
    candidates = tmp_path / "candidates.csv"
    with open(candidates, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=["tic", "max_score"])
        writer.writeheader()
        writer.writerows(
            {"tic": c["tic"], "max_score": c["max_score"]} for c in candidates_for_page()
        )
    assert (
        main(
            [
                "vetted",
                "--candidates",
                str(candidates),
                "--decisions",
                str(exported),
                "-o",
                str(tmp_path / "vetted.csv"),
            ]
        )
        == 0
    )
    with open(tmp_path / "vetted.csv") as handle:
        assert list(csv.DictReader(handle)) == [
            {"tic": "222", "max_score": "0.99", "decision": "accept"}
        ]


def test_bad_decisions_file_is_named(tmp_path):
    (tmp_path / "c.csv").write_text("tic,max_score\n1,0.95\n")
    (tmp_path / "d.csv").write_text("tic,decision\n1,maybe\n")
    with pytest.raises(ValueError, match=r"d.csv:2: bad row"):
        merge_decisions(tmp_path / "c.csv", tmp_path / "d.csv", tmp_path / "v.csv")
