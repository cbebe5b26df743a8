"""A local HTTP server that answers like MAST, for the demo, the tests and the benchmark.

It serves light-curve files of every product of :mod:`ebscan.acquire.products` (named as MAST
names them) under MAST's download path, by their MAST URI
(``/api/v0.1/Download/file/?uri=mast:TESS/product/<name>``,
``?uri=mast:HLSP/tess-spoc/s0014/target/.../<name>``; a URI that is not the file's is a
404, as at MAST), under their place in the archive tree as the public S3 bucket lays it
out (``/tess/public/tid/...``, ``/mast/hlsp/tess-spoc/...``), and each product's
per-sector bulk script under MAST's path for it
(``/missions/tess/download_scripts/sector/tesscurl_sector_<N>_lc.sh``,
``/hlsps/tess-spoc/download_scripts/hlsp_tess-spoc_tess_phot_s<NNNN>_tess_v1_dl-lc.sh``),
so a config differs from the real one only in its host. A product and sector without
a script file gets one made from its files in the files folder. It honours HTTP Range
requests, and can inject the faults that real transfers meet, per file and per request:
a connection dropped mid-body, 503 with Retry-After, a truncated body sent as if
complete, a stall longer than the client's timeout.

It also answers the two requests of MAST's portal API that a search by TIC makes
through astroquery (:mod:`ebscan.acquire.search`): ``Mast.Caom.Filtered`` (the TESS SPOC
time-series observations, one per product in the files folder, filtered by the
request's criteria) and ``Mast.Caom.Products`` (their light curves), with the column
configurations astroquery asks for first; searches can fail in the ways MAST's do
(:data:`SEARCH_FAULTS`).

``python -m ebscan.acquire.mirror_server FOLDER`` serves a folder of light curves (named as
MAST names them) until Ctrl-C, and prints the URL templates for the config.
"""

from __future__ import annotations

import argparse
import http.server
import json
import os
import re
import sys
import threading
import time
from collections import defaultdict, deque
from collections.abc import Sequence
from urllib.parse import parse_qs, unquote, urlparse

from ebscan.acquire.mast import bulk_script, product_row
from ebscan.acquire.products import MAST_DOWNLOAD_URL, PRODUCTS, SPOC_2MIN, file_fields

DOWNLOAD_PATH = urlparse(MAST_DOWNLOAD_URL).path
FAULTS = ("drop", "503", "truncate", "stall")
#: MAST's portal API, which astroquery's ``Observations`` asks.
INVOKE_PATH = "/api/v0/invoke"
COLUMNS_CONFIG_PATH = "/portal/Mashup/Mashup.asmx/columnsconfig"
#: Faults of a search request: 503 (with Retry-After), a connection closed without
#: an answer, a stall longer than the client's timeout, ``EXECUTING`` (the answer
#: comes on the client's next poll, as MAST's long queries do), and a status
#: ``ERROR`` with MAST's message.
SEARCH_FAULTS = ("503", "drop", "stall", "executing", "error")
#: The columns of the stand-in's observations and products, with their types as
#: MAST's column configurations give them (``vot.datatype``).
OBSERVATION_COLUMNS = {
    "obs_collection": "char",
    "dataproduct_type": "char",
    "provenance_name": "char",
    "target_name": "char",
    "sequence_number": "int",
    "obs_id": "char",
    "obsid": "char",
    "t_exptime": "double",
}
PRODUCT_COLUMNS = {
    "obsID": "char",
    "obs_collection": "char",
    "dataproduct_type": "char",
    "obs_id": "char",
    "description": "char",
    "dataURI": "char",
    "productType": "char",
    "productSubGroupDescription": "char",
    "productFilename": "char",
    "size": "long",
}
#: The message of a MAST search that fails with status ``ERROR``.
SEARCH_ERROR = "Error converting data type varchar to bigint."


class MirrorServer(http.server.ThreadingHTTPServer):
    """Serve ``files_dir`` and ``scripts_dir`` the way MAST does, on 127.0.0.1.

    Parameters
    ----------
    files_dir : path
        Folder of light-curve files named as MAST names them.
    scripts_dir : path
        Folder of bulk scripts named as MAST names them (``tesscurl_sector_<N>_lc.sh``,
        ``hlsp_tess-spoc_tess_phot_s<NNNN>_tess_v1_dl-lc.sh``; defaults to
        ``files_dir``); a product and sector without one gets a script of its files in
        ``files_dir``.
    port : int
        0 picks a free port (see ``url``).
    bytes_per_second : float, optional
        Throttle each transfer (for interruption tests and benchmarks).
    latency : float
        Seconds to wait before answering each request (a distant server).

    Attributes
    ----------
    faults : dict
        filename -> queue of faults (``FAULTS``) applied to its next requests, in
        order; ``plan()`` fills it.
    requests : list of tuple
        (filename, first byte asked) for every product request, in arrival order.
    search_faults : deque
        Faults (:data:`SEARCH_FAULTS`) applied to the next portal API requests, in
        order; ``plan_search()`` fills it.
    searches : list of dict
        Every portal API request (the decoded ``request`` JSON), in arrival order.
    """

    daemon_threads = True

    def __init__(
        self,
        files_dir,
        scripts_dir=None,
        port: int = 0,
        bytes_per_second: float | None = None,
        latency: float = 0.0,
        stall_seconds: float = 5.0,
    ) -> None:
        super().__init__(("127.0.0.1", port), _Handler)
        self.files_dir = os.fspath(files_dir)
        self.scripts_dir = os.fspath(scripts_dir or files_dir)
        self.bytes_per_second = bytes_per_second
        self.latency = latency
        self.stall_seconds = stall_seconds
        self.faults: dict[str, deque] = defaultdict(deque)
        self.requests: list[tuple[str, int]] = []
        self.search_faults: deque = deque()
        self.searches: list[dict] = []
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    @property
    def download_url(self) -> str:
        """Download template for ebscan (``{uri}`` as MAST's API takes it)."""
        return self.local(MAST_DOWNLOAD_URL)

    @property
    def bulk_script_url(self) -> str:
        """The 2-minute product's script template (:meth:`script_url`)."""
        return self.script_url(SPOC_2MIN.name)

    def script_url(self, product: str) -> str:
        """A product's bulk-script template at this server."""
        return self.local(PRODUCTS[product].bulk_script_url)

    def local(self, url: str) -> str:
        """``url`` (one of MAST's, or a template of one) at this server."""
        address = urlparse(url)
        return f"{self.url}{address.path}" + (f"?{address.query}" if address.query else "")

    def plan(self, filename: str, *faults: str) -> None:
        """Make the next requests for ``filename`` fail in these ways, in order."""
        unknown = set(faults) - set(FAULTS)
        if unknown:
            raise ValueError(f"unknown fault(s) {sorted(unknown)}; choose from {FAULTS}")
        self.faults[filename].extend(faults)

    def plan_search(self, *faults: str) -> None:
        """Make the next portal API requests fail in these ways, in order."""
        unknown = set(faults) - set(SEARCH_FAULTS)
        if unknown:
            raise ValueError(f"unknown fault(s) {sorted(unknown)}; choose from {SEARCH_FAULTS}")
        self.search_faults.extend(faults)

    def next_search_fault(self, request: dict) -> str | None:
        with self._lock:
            self.searches.append(request)
            return self.search_faults.popleft() if self.search_faults else None

    def observations(self) -> list[dict]:
        """One TESS SPOC time-series observation per light curve in ``files_dir``, with
        its product, as MAST's CAOM tables describe them."""
        found = []
        for name in sorted(os.listdir(self.files_dir)):
            row = product_row(name)
            if row is None or row["product"] != SPOC_2MIN.name:
                continue  # the search finds the 2-minute SPOC light curves
            obs_id = name.removesuffix("_lc.fits")
            obsid = str(60_000_000 + len(found))
            observation = {
                "obs_collection": "TESS",
                "dataproduct_type": "timeseries",
                "provenance_name": "SPOC",
                "target_name": str(row["tic"]),
                "sequence_number": row["sector"],
                "obs_id": obs_id,
                "obsid": obsid,
                "t_exptime": 120.0,
            }
            product = {
                "obsID": obsid,
                "obs_collection": "TESS",
                "dataproduct_type": "timeseries",
                "obs_id": obs_id,
                "description": "Light curves",
                "dataURI": row["uri"],
                "productType": "SCIENCE",
                "productSubGroupDescription": "LC",
                "productFilename": name,
                "size": os.path.getsize(os.path.join(self.files_dir, name)),
            }
            found.append((observation, product))
        return found

    def sectors(self) -> dict[tuple[str, int], list[str]]:
        """The files in ``files_dir`` by product and sector, names sorted."""
        found: dict[tuple[str, int], list[str]] = defaultdict(list)
        for name in sorted(os.listdir(self.files_dir)):
            row = product_row(name)
            if row is not None:
                found[row["product"], row["sector"]].append(name)
        return dict(found)

    def next_fault(self, filename: str, start: int) -> str | None:
        with self._lock:
            self.requests.append((filename, start))
            queue = self.faults.get(filename)
            return queue.popleft() if queue else None

    def start(self) -> MirrorServer:
        """Serve from a background thread; returns self."""
        self._thread = threading.Thread(target=self.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.shutdown()
        self.server_close()

    def __enter__(self) -> MirrorServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


_RANGE = re.compile(r"bytes=(\d+)-$")
#: Where each product's bulk scripts are, as patterns of the path.
_SCRIPTS = {name: product.script_path() for name, product in PRODUCTS.items()}


class _Handler(http.server.BaseHTTPRequestHandler):
    server: MirrorServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: the tests and the demo read the request log instead."""

    def do_GET(self) -> None:
        if self.server.latency:
            time.sleep(self.server.latency)
        url = urlparse(self.path)
        name = os.path.basename(url.path)
        if url.path == DOWNLOAD_PATH:
            uri = unquote(parse_qs(url.query).get("uri", [""])[0])
            name = os.path.basename(uri)
            self._product(name, uri == file_fields(name)["uri"])
        elif script := next(
            ((p, m) for p, pattern in _SCRIPTS.items() if (m := pattern.fullmatch(url.path))),
            None,
        ):
            self._script(name, script[0], int(script[1]["sector"]))
        elif url.path.lstrip("/") == file_fields(name)["path"]:
            self._product(name)
        else:
            self._error(404, "not found")

    def do_POST(self) -> None:
        if self.server.latency:
            time.sleep(self.server.latency)
        length = int(self.headers.get("Content-Length", 0))
        form = parse_qs(self.rfile.read(length).decode())
        path = urlparse(self.path).path
        if path == COLUMNS_CONFIG_PATH:
            config_id = form.get("colConfigId", [""])[0]
            columns = PRODUCT_COLUMNS if config_id == "Mast.Caom.Products" else OBSERVATION_COLUMNS
            self._send_json({name: {"vot.datatype": kind} for name, kind in columns.items()})
        elif path == INVOKE_PATH:
            self._invoke(json.loads(form.get("request", ["{}"])[0]))
        else:
            self._error(404, "not found")

    def _invoke(self, request: dict) -> None:
        """Answer a portal API request as MAST does: JSON with ``status``, ``fields``,
        ``data`` and ``paging`` (one page)."""
        fault = self.server.next_search_fault(request)
        if fault == "503":
            self._error(503, "Service Unavailable", {"Retry-After": "1"})
            return
        if fault == "drop":
            self.close_connection = True
            self.connection.shutdown(2)
            return
        if fault == "stall":
            time.sleep(self.server.stall_seconds)
        if fault in ("executing", "error"):
            status = "EXECUTING" if fault == "executing" else "ERROR"
            self._send_json({"status": status, "msg": SEARCH_ERROR if fault == "error" else ""})
            return
        service, params = request.get("service"), request.get("params", {})
        pairs = self.server.observations()
        if service == "Mast.Caom.Filtered":
            columns = OBSERVATION_COLUMNS
            rows = [o for o, _ in pairs if all(_matches(o, f) for f in params.get("filters", []))]
        elif service == "Mast.Caom.Products":
            columns = PRODUCT_COLUMNS
            wanted = set(str(params.get("obsid", "")).split(","))
            rows = [p for o, p in pairs if o["obsid"] in wanted]
        else:
            self._send_json({"status": "ERROR", "msg": f"Unknown service: {service}"})
            return
        self._send_json(
            {
                "status": "COMPLETE",
                "msg": "",
                "fields": [{"name": name, "type": kind} for name, kind in columns.items()],
                "data": rows,
                "paging": {"page": 1, "pageSize": len(rows), "pagesFiltered": 1, "rows": len(rows)},
            }
        )

    def _send_json(self, value: object) -> None:
        body = json.dumps(value).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _script(self, name: str, product: str, sector: int) -> None:
        path = os.path.join(self.server.scripts_dir, name)
        if os.path.isfile(path):
            self._file(path)
            return
        files = self.server.sectors().get((product, sector))
        if not files:
            self._error(404, "not found")
            return
        self._send_body(bulk_script(files).encode())

    def _error(self, code: int, message: str, headers: dict | None = None) -> None:
        body = message.encode()
        self.send_response(code)
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _file(self, path: str) -> None:
        if not os.path.isfile(path):
            self._error(404, "not found")
            return
        with open(path, "rb") as handle:
            self._send_body(handle.read())

    def _send_body(self, body: bytes) -> None:
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _product(self, name: str, addressed: bool = True) -> None:
        """Serve the file ``name`` of the files folder; a 404 unless ``addressed`` by its
        own URI or path."""
        path = os.path.join(self.server.files_dir, name)
        if not (name and addressed and os.path.isfile(path)):
            self.server.next_fault(name, 0)
            self._error(404, "File not found")
            return
        size = os.path.getsize(path)
        asked = _RANGE.match(self.headers.get("Range", ""))
        start = int(asked.group(1)) if asked else 0
        fault = self.server.next_fault(name, start)
        if fault == "503":
            self._error(503, "Service Unavailable", {"Retry-After": "1"})
            return
        if start >= size:
            self._error(416, "Range Not Satisfiable", {"Content-Range": f"bytes */{size}"})
            return
        with open(path, "rb") as handle:
            handle.seek(start)
            body = handle.read()
        if fault == "truncate":  # a short body that says it is whole
            body = body[: len(body) // 2]
        self.send_response(206 if asked else 200)
        if asked:
            self.send_header("Content-Range", f"bytes {start}-{size - 1}/{size}")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Accept-Ranges", "bytes")
        self.end_headers()
        if fault == "stall":
            time.sleep(self.server.stall_seconds)
        if fault == "drop":  # half the body, then the connection goes away
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.close_connection = True
            self.connection.shutdown(2)
            return
        self._send(body)

    def _send(self, body: bytes) -> None:
        rate = self.server.bytes_per_second
        step = 1 << 16
        for offset in range(0, len(body), step):
            self.wfile.write(body[offset : offset + step])
            if rate:
                time.sleep(step / rate)


def _matches(row: dict, condition: dict) -> bool:
    """Whether an observation meets one filter of a ``Mast.Caom.Filtered`` request:
    one of the values (compared as text), or within ``min`` and ``max``."""
    value = row.get(condition["paramName"])
    values = condition["values"]
    if values and isinstance(values[0], dict):
        return any(v["min"] <= value <= v["max"] for v in values)
    return str(value) in {str(v) for v in values}


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m ebscan.acquire.mirror_server``: serve a folder of light curves until Ctrl-C."""
    parser = argparse.ArgumentParser(
        prog="python -m ebscan.acquire.mirror_server",
        description="Serve a folder of TESS light curves on 127.0.0.1 under MAST's URL "
        "paths, with a bulk download script per sector and MAST's search by TIC, so "
        "that the workflow, `ebscan manifest`/`download` and `ebscan score --tic` run "
        "against it as against MAST.",
    )
    parser.add_argument(
        "folder",
        help="light curves named as MAST names them (tess...-s0001-...-s_lc.fits, "
        "hlsp_tess-spoc_tess_phot_...-s0014_tess_v1_lc.fits)",
    )
    parser.add_argument(
        "--scripts",
        metavar="DIR",
        help="folder of bulk scripts named as MAST names them (tesscurl_sector_N_lc.sh, "
        "hlsp_tess-spoc_tess_phot_sNNNN_tess_v1_dl-lc.sh) to serve instead of the ones "
        "made from FOLDER",
    )
    parser.add_argument("--port", type=int, default=8765, help="default 8765 (0: any free one)")
    args = parser.parse_args(argv)
    if not os.path.isdir(args.folder):
        parser.error(f"no such folder: {args.folder}")
    try:
        server = MirrorServer(args.folder, args.scripts, port=args.port)
    except OSError as exc:
        print(
            f"mirror_server: error: cannot serve on 127.0.0.1:{args.port} ({exc.strerror}); "
            "free the port or choose another with --port",
            file=sys.stderr,
        )
        return 1
    sectors = server.sectors()
    products = [p for p in PRODUCTS if any(product == p for product, _ in sectors)]
    counts = "; ".join(
        f"{product} "
        + ", ".join(
            f"{s} ({len(names)})" for (p, s), names in sorted(sectors.items()) if p == product
        )
        for product in products
    )
    print(f"Serving {args.folder} like MAST at {server.url}/, sectors (light curves): {counts}")
    print("For the workflow's config (or --bulk-script-url / --download-url):")
    print("  products:")
    for product in products:
        print(f'    {product}:\n      bulk_script_url: "{server.script_url(product)}"')
    print(f'  mast:\n    download_url: "{server.download_url}"')
    print(f"For searches by TIC (ebscan score --tic, manifest --search): --mast-url {server.url}")
    print("Ctrl-C stops it.", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
