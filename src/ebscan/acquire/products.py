"""The light-curve products a survey reads: how MAST lists, names and serves each one.

One small description per product (:class:`Product`); the manifests and downloads
(:mod:`ebscan.acquire.mast`), the MAST stand-in (:mod:`ebscan.acquire.mirror_server`) and the
workflow's ``products:`` all work from these descriptions and nothing else, so another
product (QLP, GSFC-eleanor-lite: a per-sector script, a file-name pattern, a MAST URI
and a place in the archive tree) is one more entry in :data:`PRODUCTS`.

Where the names come from (docs/downloads.md has the details):

- ``spoc-2min``: MAST's TESS bulk downloads (``tesscurl_sector_N_lc.sh`` under
  ``archive.stsci.edu/missions/tess/download_scripts/sector/``), the file names of the
  TESS Science Data Products Description Document, the public bucket ``stpubdata``
  (``tess/public/tid/sNNNN/<tid_path>/``).
- ``tess-spoc-ffi``: the TESS-SPOC high-level science product
  (https://archive.stsci.edu/hlsp/tess-spoc, DOI 10.17909/t9-wpz1-8s54): per-sector
  scripts ``hlsp_tess-spoc_tess_phot_sNNNN_tess_v1_dl-lc.sh`` under
  ``archive.stsci.edu/hlsps/tess-spoc/download_scripts/``, files
  ``hlsp_tess-spoc_tess_phot_<tid>-sNNNN_tess_v1_lc.fits`` with MAST URIs
  ``mast:HLSP/tess-spoc/sNNNN/target/<tid_path>/<file>``, and the same tree under
  ``mast/hlsp/tess-spoc/`` in ``stpubdata``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlparse

#: MAST's download API: one address for every product, by its URI.
MAST_DOWNLOAD_URL = "https://mast.stsci.edu/api/v0.1/Download/file/?uri={uri}"


@dataclass(frozen=True)
class Product:
    """How MAST lists, names and serves one kind of light-curve file.

    Attributes
    ----------
    name : str
        The name in the workflow's ``products:`` and ``ebscan manifest --product``.
    title : str
        What it is, in a few words.
    bulk_script_url : str
        MAST's per-sector bulk download script (``{sector}``, formatted like
        ``{sector:04d}`` where the name pads it): one ``curl`` line per file.
    pattern : re.Pattern
        Matches the product's file names; named groups ``tic`` and ``sector``.
    uri : str
        Template of a file's MAST URI (fields of :meth:`fields`).
    path : str
        Template of a file's place in MAST's archive tree as the public S3 bucket
        ``stpubdata`` lays it out.
    script_line : str
        Template of one line of the bulk script (``{url}`` and :meth:`fields`), as the
        stand-in for MAST writes them.
    filename : str
        Template of a file name from ``{tic}`` and ``{sector}`` where the name holds
        nothing else ("" for products whose names carry a time stamp).
    """

    name: str
    title: str
    bulk_script_url: str
    pattern: re.Pattern
    uri: str
    path: str
    script_line: str
    filename: str = ""

    def fields(self, filename: str) -> dict:
        """The template fields of one file of this product.

        ``filename``, ``tic``, ``sector``, ``tid_path`` (the 16-digit TIC as
        ``0000/0000/2515/5310``, the archive's folders), ``uri`` and ``path``; a name
        that is not this product's gives TIC and sector 0.
        """
        found = self.pattern.search(filename)
        tic, sector = (int(found["tic"]), int(found["sector"])) if found else (0, 0)
        digits = f"{tic:016d}"
        values = {
            "filename": filename,
            "tic": tic,
            "sector": sector,
            "tid_path": "/".join(digits[i : i + 4] for i in range(0, 16, 4)),
        }
        values["uri"] = self.uri.format(**values)
        values["path"] = self.path.format(**values)
        return values

    def script_path(self) -> re.Pattern:
        """The path of :attr:`bulk_script_url` as a pattern; group ``sector``."""
        path = re.escape(urlparse(self.bulk_script_url).path)
        return re.compile(re.sub(r"\\\{sector(:[^}]*)?\\\}", r"(?P<sector>\\d+)", path))


SPOC_2MIN = Product(
    name="spoc-2min",
    title="SPOC light curves of the 2-minute targets (about 20,000 a sector)",
    bulk_script_url=(
        "https://archive.stsci.edu/missions/tess/download_scripts/sector/"
        "tesscurl_sector_{sector}_lc.sh"
    ),
    pattern=re.compile(r"-s(?P<sector>\d{4})-(?P<tic>\d{16})-\d{4}-[a-z]_lc\.fits$"),
    uri="mast:TESS/product/{filename}",
    path="tess/public/tid/s{sector:04d}/{tid_path}/{filename}",
    script_line="curl -C - -L -o {filename} {url}",
)

TESS_SPOC_FFI = Product(
    name="tess-spoc-ffi",
    title="TESS-SPOC light curves from full-frame images (HLSP; up to 160,000 a sector; "
    "30-minute cadence in sectors 14-26, 10-minute in 27-55, 200 s after)",
    bulk_script_url=(
        "https://archive.stsci.edu/hlsps/tess-spoc/download_scripts/"
        "hlsp_tess-spoc_tess_phot_s{sector:04d}_tess_v1_dl-lc.sh"
    ),
    pattern=re.compile(
        r"^hlsp_tess-spoc_tess_phot_(?P<tic>\d{16})-s(?P<sector>\d{4})_tess_v1_lc\.fits$"
    ),
    uri="mast:HLSP/tess-spoc/s{sector:04d}/target/{tid_path}/{filename}",
    path="mast/hlsp/tess-spoc/s{sector:04d}/target/{tid_path}/{filename}",
    # The scripts write each file into sNNNN/target/<tid_path>/ under the directory
    # they run in.
    script_line="curl -f --create-dirs --output s{sector:04d}/target/{tid_path}/{filename} '{url}'",
    filename="hlsp_tess-spoc_tess_phot_{tic:016d}-s{sector:04d}_tess_v1_lc.fits",
)

#: Every product by name.
PRODUCTS = {product.name: product for product in (SPOC_2MIN, TESS_SPOC_FFI)}


def get_product(name: str) -> Product:
    """The product called ``name``.

    Raises
    ------
    ValueError
        Naming the known products.
    """
    if name not in PRODUCTS:
        raise ValueError(f"unknown product {name!r}; choose from {', '.join(PRODUCTS)}")
    return PRODUCTS[name]


def identify(filename: str) -> Product | None:
    """The product whose file names ``filename`` matches, or None."""
    return next((p for p in PRODUCTS.values() if p.pattern.search(filename)), None)


def file_fields(filename: str) -> dict:
    """:meth:`Product.fields` of a file, with ``product``; a name no product matches
    is taken as a 2-minute product's (TIC and sector 0)."""
    product = identify(filename) or SPOC_2MIN
    return {**product.fields(filename), "product": product.name}
