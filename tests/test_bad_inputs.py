"""A corpus of broken light curves, made from a real one: each is rejected for its reason."""

from __future__ import annotations

import numpy as np
from astropy.io import fits

from ebscan.cli import main
from ebscan.lightcurves.shards import read_shard

from conftest import CM_DRA_S24


def rewrite(target, edit):
    with fits.open(CM_DRA_S24) as hdul:
        edit(hdul)
        hdul.writeto(target)


def drop_column(name):
    def edit(hdul):
        kept = [c for c in hdul["LIGHTCURVE"].columns if c.name != name]
        hdul["LIGHTCURVE"] = fits.BinTableHDU.from_columns(kept, name="LIGHTCURVE")

    return edit


def integer_time(hdul):
    columns = [
        fits.Column("TIME", "J", array=hdul["LIGHTCURVE"].data["TIME"].astype(np.int32))
        if c.name == "TIME"
        else c
        for c in hdul["LIGHTCURVE"].columns
    ]
    hdul["LIGHTCURVE"] = fits.BinTableHDU.from_columns(columns, name="LIGHTCURVE")


def huge_header(hdul):
    for i in range(15_000):  # 15,000 cards of 80 bytes: 1.2 MB
        hdul[0].header["HISTORY"] = f"padding card {i}"


def keep_first(n):
    def edit(hdul):
        hdul["LIGHTCURVE"].data["QUALITY"][n:] = 1

    return edit


def test_every_broken_file_has_its_own_reason(spoc_dir, tmp_path, capsys):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    raw = CM_DRA_S24.read_bytes()
    (corpus / "truncated.fits").write_bytes(raw[: len(raw) // 2])
    (corpus / "zero.fits").write_bytes(b"")
    (corpus / "html.fits").write_text("<html><body>503 Service Unavailable</body></html>")
    edits = {
        "no_lightcurve.fits": lambda h: h.__delitem__("LIGHTCURVE"),
        "no_pdcsap.fits": drop_column("PDCSAP_FLUX"),
        "no_time.fits": drop_column("TIME"),
        "all_nan.fits": lambda h: h["LIGHTCURVE"].data["PDCSAP_FLUX"].fill(np.nan),
        "all_flagged.fits": lambda h: h["LIGHTCURVE"].data["QUALITY"].fill(512),
        "too_few.fits": keep_first(1500),
        "unsorted.fits": lambda h: (
            h["LIGHTCURVE"]
            .data["TIME"]
            .__setitem__(slice(None), h["LIGHTCURVE"].data["TIME"][::-1])
        ),
        "duplicated.fits": lambda h: (
            h["LIGHTCURVE"]
            .data["TIME"]
            .__setitem__(slice(200, 203), h["LIGHTCURVE"].data["TIME"][200])
        ),
        "int_time.fits": integer_time,
        "huge_header.fits": huge_header,
    }
    for name, edit in edits.items():
        rewrite(corpus / name, edit)
    files = sorted(str(p) for p in corpus.iterdir())
    assert main(["preprocess", *files, str(CM_DRA_S24), "-o", str(tmp_path / "s.h5")]) == 0
    shard = read_shard(tmp_path / "s.h5")
    reasons = {
        path.rsplit("/", 1)[1]: reason
        for path, reason in zip(
            shard["rejects"]["source_file"], shard["rejects"]["reason"], strict=True
        )
    }
    expected = {
        "truncated.fits": "truncated: HDU 1 ends at byte",
        "zero.fits": "empty file (0 bytes)",
        "html.fits": "not a FITS file",
        "no_lightcurve.fits": "no LIGHTCURVE extension",
        "no_pdcsap.fits": "no flux column (looked for PDCSAP_FLUX, FLUX)",
        "no_time.fits": "no TIME column",
        "all_nan.fits": "PDCSAP_FLUX is NaN everywhere",
        "all_flagged.fits": "no cadence with QUALITY == 0 and finite flux",
        "too_few.fits": "no segment with at least 2000 good cadences (2.78 days at 2 min; "
        "longest has ",
        "unsorted.fits": "times not sorted",
        "duplicated.fits": "duplicated times (2 repeats)",
        "int_time.fits": "TIME column has type >i4, not float",
        "huge_header.fits": "HDU 0 header is ",
    }
    assert set(reasons) == set(expected)
    for name, start in expected.items():
        assert reasons[name].startswith(start), (name, reasons[name])
    assert set(shard["segments"]["source_file"]) == {str(CM_DRA_S24)}
    err = capsys.readouterr().err
    assert err.count("rejected ") == len(expected)
    assert "Traceback" not in err
