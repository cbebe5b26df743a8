"""Known non-EB variables of GCVS 5.1 as negatives: types, VizieR through astroquery
(against a local HTTPS server), and the position match to real shared light curves."""

from __future__ import annotations

import csv
import io
import ssl
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest
from astropy.io import fits
from astropy.table import Table

from ebscan.cli import main
from ebscan.labels.gcvs import GCVS_VIZIER, build_variable_labels, gcvs_non_eb_type, read_gcvs

#: The 30-minute set's variable classes as GCVS types.
GCVS_TYPE_OF = {"DSCT": "DSCT", "GDOR": "GDOR", "RRLYR_C": "RRC"}


@pytest.mark.parametrize(
    ("var_type", "expected"),
    [
        ("RRAB", "RRAB"),
        ("DSCTC", "DSCTC"),
        ("BY+UV", "BY"),
        ("ELL", "ELL"),
        ("ELL+EA", None),  # eclipsing too: never a negative
        ("EA/DM", None),
        ("EW", None),
        ("RRAB:", None),  # uncertain
        ("M", "M"),
        ("SR", None),  # not in the list
        ("", None),
    ],
)
def test_gcvs_types(var_type, expected):
    assert gcvs_non_eb_type(var_type) == expected


def shared_variables(ffi_dir: Path) -> tuple[list[dict], dict[int, dict]]:
    """The 30-minute set's stars with their header positions and labels."""
    with open(ffi_dir / "labels.csv", newline="") as handle:
        labels = list(csv.DictReader(handle))
    stars = {}
    for row in labels:
        header = fits.getheader(ffi_dir / row["file"], 0)
        stars[int(row["tic"])] = {
            "label": row["label"],
            "file": str(ffi_dir / row["file"]),
            "ra": float(header["RA_OBJ"]),
            "dec": float(header["DEC_OBJ"]),
        }
    return labels, stars


def gcvs_extract(stars: dict[int, dict]) -> Table:
    """A GCVS-shaped table: the pulsators at their positions (3 arcsec off), one EB
    entered as EA at its own position, and one uncertain RRAB."""
    rows = []
    for tic, star in sorted(stars.items()):
        if star["label"] in GCVS_TYPE_OF:
            rows.append(
                (f"V{tic}", GCVS_TYPE_OF[star["label"]], star["ra"], star["dec"] + 3 / 3600)
            )
    eb = next(tic for tic, star in sorted(stars.items()) if star["label"] == "EB")
    rows.append(("V0001 EB", "EA", stars[eb]["ra"], stars[eb]["dec"]))
    nonvar = next(tic for tic, star in sorted(stars.items()) if star["label"] == "NONVAR")
    rows.append(("V0002 unsure", "RRAB:", stars[nonvar]["ra"], stars[nonvar]["dec"]))
    return Table(rows=rows, names=("GCVS", "VarType", "_RAJ2000", "_DEJ2000"))


class VizierHandler(BaseHTTPRequestHandler):
    """Answers astroquery's VizieR POST with a VOTable of ``self.server.table``."""

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"])).decode()
        self.server.requests.append((self.path, body))
        from astropy.io.votable import from_table

        votable = from_table(self.server.table)
        votable.resources[0].tables[0].name = GCVS_VIZIER
        buffer = io.BytesIO()
        votable.to_xml(buffer)
        payload = buffer.getvalue()
        self.send_response(200)
        self.send_header("Content-Type", "application/x-votable+xml")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args):
        pass


@pytest.fixture
def vizier(tmp_path, monkeypatch):
    """A VizieR stand-in on https://127.0.0.1 with a certificate requests trusts."""
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
            "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
            "-keyout", str(key), "-out", str(cert),
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(cert))
    server = ThreadingHTTPServer(("127.0.0.1", 0), VizierHandler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    server.requests = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()


def test_known_variables_become_negatives(ffi_dir, vizier, tmp_path):
    labels, stars = shared_variables(ffi_dir)
    vizier.table = gcvs_extract(stars)
    host = f"127.0.0.1:{vizier.server_port}"
    variables = read_gcvs("vizier", server=host)
    path, body = vizier.requests[0]
    assert path == "/viz-bin/votable"
    # The whole catalog (no row limit), with positions in degrees.
    assert {
        f"-source={GCVS_VIZIER}",
        "-out.max=unlimited",
        "-out=GCVS,VarType",
        "-out.add=_RAJ2000,_DEJ2000",
    } <= set(body.splitlines())
    n_pulsators = sum(s["label"] in GCVS_TYPE_OF for s in stars.values())
    assert n_pulsators == 82
    assert len(variables) == n_pulsators  # the EA and the uncertain RRAB are dropped

    files = [s["file"] for s in stars.values()]
    shard = tmp_path / "ffi.h5"
    preprocess = ["preprocess", *files, "--flux-column", "FLUX", "--min-points", "300"]
    assert main([*preprocess, "-o", str(shard)]) == 0
    eb_labels = tmp_path / "labels.csv"
    eb_labels.write_text(
        "tic,sector,label\n"
        + "".join(f"{tic},{s['sector']},EB\n" for tic, s in _by_tic(labels, "EB").items())
    )
    rows = build_variable_labels([shard], "vizier", [eb_labels], 10.0, server=host)
    labelled = {r["tic"]: r for r in rows}
    expected = {tic for tic, s in stars.items() if s["label"] in GCVS_TYPE_OF}
    assert set(labelled) == expected
    tic = min(expected)
    assert labelled[tic]["label"] == "non-EB"
    assert labelled[tic]["subtype"] == GCVS_TYPE_OF[stars[tic]["label"]]
    assert labelled[tic]["source"] == f"GCVS 5.1 ({GCVS_VIZIER}) V{tic}"
    # 3 arcsec off is inside 10 arcsec and outside 2.
    assert build_variable_labels([shard], "vizier", [eb_labels], 2.0, server=host) == []


def _by_tic(labels: list[dict], label: str) -> dict[int, dict]:
    return {int(r["tic"]): r for r in labels if r["label"] == label}


def test_saved_gcvs_table_with_sexagesimal_positions(tmp_path):
    saved = tmp_path / "gcvs.ecsv"
    Table(
        rows=[
            ("RR Lyr", "RRAB", "19 25 27.91", "+42 47 03.7"),
            ("Algol", "EA/SD", "03 08 10.13", "+40 57 20.3"),
        ],
        names=("GCVS", "VarType", "RAJ2000", "DEJ2000"),
    ).write(saved)
    (rr_lyr,) = read_gcvs(saved)
    assert rr_lyr["name"] == "RR Lyr" and rr_lyr["type"] == "RRAB"
    np.testing.assert_allclose([rr_lyr["ra"], rr_lyr["dec"]], [291.366292, 42.784361], atol=1e-5)


def test_cli_gcvs_needs_shards(tmp_path, capsys):
    saved = tmp_path / "gcvs.ecsv"
    Table(rows=[("X", "M", 1.0, 2.0)], names=("GCVS", "VarType", "_RAJ2000", "_DEJ2000")).write(
        saved
    )
    with pytest.raises(SystemExit) as stop:
        main(["labels", "--gcvs", str(saved), "-o", str(tmp_path / "out.csv")])
    assert stop.value.code == 2
    assert "--gcvs needs the light curves to label: give --shard" in capsys.readouterr().err
