"""Every setting of ebscan, declared once: a typed dataclass per config section.

Each section of ``config/config.yaml`` has its dataclass here, with each key's type,
default and one-line doc; ``workflow/schemas/config.schema.yaml`` validates the
config file and fills in the same defaults (``tests/test_config.py`` fails when the
two differ). Functions and command-line options that take a setting default to the
dataclass's value (``MastConfig.retries``) instead of restating it. The rest of the
module turns the workflow's config into ebscan objects.

This module imports nothing heavy: the command line reads its defaults here.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field

from ebscan.acquire.products import MAST_DOWNLOAD_URL, SPOC_2MIN, get_product

_RANGE = re.compile(r"^\s*(\d+)\s*(?:-\s*(\d+)\s*)?$")


@dataclass(frozen=True)
class SurveyConfig:
    """The top-level keys of the config (``sectors`` is required and has no default).

    Attributes
    ----------
    products : dict
        Light-curve product name -> its options (:func:`survey_products`).
    results : str
        Folder for every output.
    chunk_size : int
        Light curves per download/preprocess/infer job (one shard each).
    threshold : float
        EB score at or above which a segment (and its star) is a candidate.
    """

    products: dict = field(default_factory=lambda: {SPOC_2MIN.name: {}})
    results: str = "results"
    chunk_size: int = 1000
    threshold: float = 0.9


@dataclass(frozen=True)
class MastConfig:
    """The ``mast`` section: where light curves come from and how they are fetched.

    Attributes
    ----------
    download_url : str
        Address template of each file ({uri}, {path}, {filename}, ...; docs/downloads.md).
    tic_subset : str
        File with one TIC per line to survey only those stars; empty: all.
    concurrency : int
        Simultaneous transfers per download job.
    retries : int
        Retries per file or request (exponential backoff with jitter).
    timeout_s : float
        Per-request timeout in seconds.
    """

    download_url: str = MAST_DOWNLOAD_URL
    tic_subset: str = ""
    concurrency: int = 4
    retries: int = 5
    timeout_s: float = 60.0


@dataclass(frozen=True)
class GlsConfig:
    """The ``gls`` section.

    Attributes
    ----------
    method : str
        A key of :data:`ebscan.lightcurves.periodogram.METHODS`: ``finufft`` or ``direct``.
    """

    method: str = "finufft"


#: The paper's shortest segment, 2000 two-minute cadences: the fewest cadences where a
#: light curve's cadence is not given (:func:`ebscan.lightcurves.segments.split_segments`), and in
#: days (2.78) the default of ``min_segment_days``.
PAPER_MIN_POINTS = 2000
PAPER_MIN_SEGMENT_DAYS = PAPER_MIN_POINTS * 2 / 1440


@dataclass(frozen=True)
class PreprocessConfig:
    """The ``preprocess`` section (and ``gls.method``): every parameter of the
    preprocessing; stored in each shard's attributes.

    Attributes
    ----------
    gap_days : float
        Split where consecutive good cadences are further apart than this.
    min_segment_days : float
        Drop segments with fewer good cadences than this many days hold at the light
        curve's own cadence (:meth:`min_points_at`): the paper's 2000 two-minute
        cadences, which are 1200 at 200 seconds, 400 at 10 minutes and 134 at 30
        minutes, so that one setting serves every cadence.
    min_points : int or None
        Drop segments with fewer good cadences than this at every cadence instead
        (``None``: from ``min_segment_days``).
    clip_percentile : float
        Cadences at or above this flux percentile are dropped (flares).
    n_lc : int
        Length of the resampled light-curve vector.
    spline_mode : str
        ``'binned'``, ``'adaptive'``, ``'paper'`` or ``'calnet-code'`` (see
        :mod:`ebscan.lightcurves.resample`).
    knot_spacing_days, clip_sigma, clip_rounds
        Options of the least-squares spline of ``paper`` and ``adaptive``.
    gls_method : str
        A key of :data:`ebscan.lightcurves.periodogram.METHODS` (the ``gls`` section's ``method``).
    flux_column : str or None
        Column to read; ``None`` (``null`` in the config, ``'auto'`` in a shard's
        attributes) takes ``PDCSAP_FLUX``, else ``FLUX``.
    """

    gap_days: float = 0.75
    min_segment_days: float = PAPER_MIN_SEGMENT_DAYS
    min_points: int | None = None
    clip_percentile: float = 99.0
    n_lc: int = 4000
    spline_mode: str = "binned"
    knot_spacing_days: float = 0.02
    clip_sigma: float = 3.0
    clip_rounds: int = 3
    gls_method: str = GlsConfig.method
    flux_column: str | None = None

    def __post_init__(self) -> None:
        # Imported here: the modules that check these names import this one.
        from ebscan.lightcurves.periodogram import METHODS
        from ebscan.lightcurves.resample import SPLINE_MODES

        if self.spline_mode not in SPLINE_MODES:
            raise ValueError(
                f"spline_mode must be one of {sorted(SPLINE_MODES)}, not {self.spline_mode!r}"
            )
        if self.gls_method not in METHODS:
            raise ValueError(
                f"gls_method must be one of {sorted(METHODS)}, not {self.gls_method!r}"
            )
        for name in ("gap_days", "min_segment_days", "knot_spacing_days", "clip_sigma"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be positive, not {getattr(self, name)!r}")
        for name in ("min_points", "n_lc"):
            if getattr(self, name) is not None and getattr(self, name) < 4:
                raise ValueError(f"{name} must be at least 4, not {getattr(self, name)!r}")
        if not 0 < self.clip_percentile <= 100:
            raise ValueError(f"clip_percentile must be in (0, 100], not {self.clip_percentile!r}")

    def min_points_at(self, cadence: float) -> int:
        """The fewest good cadences a segment needs at a cadence of ``cadence`` minutes:
        ``min_points`` if set, else as many as ``min_segment_days`` holds (rounded up;
        at least 4)."""
        if self.min_points is not None:
            return self.min_points
        return max(math.ceil(self.min_segment_days / (cadence / 1440)), 4)

    def spline_options(self) -> dict[str, float]:
        """Keyword options of the configured spline mode."""
        if self.spline_mode in ("adaptive", "paper"):
            return {
                "knot_spacing_days": self.knot_spacing_days,
                "clip_sigma": self.clip_sigma,
                "clip_rounds": self.clip_rounds,
            }
        return {}

    def as_attrs(self) -> dict[str, float | int | str]:
        """The parameters as HDF5-storable attributes (``None`` becomes ``'auto'``)."""
        return {k: ("auto" if v is None else v) for k, v in asdict(self).items()}


@dataclass(frozen=True)
class TrainingConfig:
    """The ``training`` section: the model, its labels and its optimisation.

    Attributes
    ----------
    model_path : str
        ``'pretrained'``, a trained ``.keras`` model, or empty to train one.
    labels : str
        Labels CSV (tic, sector, label); empty: built from ``catalogs``.
    catalogs : str
        Folder laid out like ``../shared/catalogs`` to build the labels from.
    negative_ratio : float
        Random non-catalogued light curves per positive.
    gcvs : str
        GCVS known variables as negatives: ``'vizier'``, a saved table, or empty.
    gcvs_radius_arcsec : float
        Match radius of GCVS positions to the training light curves.
    simulated_share : float
        Share of the training set made of simulated light curves.
    sectors : list
        Sectors whose labelled segments train (empty: all surveyed).
    model : str
        A model of the registry (:data:`ebscan.models.MODELS`).
    hparams : dict
        Hyperparameter overrides of the model.
    epochs : int
        Most epochs to train.
    batch_size : int
        Segments per training batch.
    learning_rate : float
        Adam's learning rate.
    validation_fraction : float
        Fraction of stars (not segments) held out for validation.
    patience : int
        Epochs without a better validation loss before stopping early.
    class_weight : bool
        Weight classes inversely to their frequency.
    seed : int
        Seed of the labels' negatives, the split, the shuffles and the weights.
    """

    model_path: str = ""
    labels: str = ""
    catalogs: str = ""
    negative_ratio: float = 1.0
    gcvs: str = ""
    gcvs_radius_arcsec: float = 10.0
    simulated_share: float = 0.0
    sectors: list = field(default_factory=list)
    model: str = "calnet"
    hparams: dict = field(default_factory=dict)
    epochs: int = 30
    batch_size: int = 128
    learning_rate: float = 1e-3
    validation_fraction: float = 0.2
    patience: int = 5
    class_weight: bool = False
    seed: int = 42


#: The ``training`` keys that :func:`ebscan.learn.training.train_model` takes: the ``train``
#: rule receives only these, so that changing how labels are made does not retrain
#: a model whose training table stays the same.
FIT_KEYS = (
    "model",
    "hparams",
    "epochs",
    "batch_size",
    "learning_rate",
    "validation_fraction",
    "patience",
    "class_weight",
    "seed",
)


@dataclass(frozen=True)
class CatalogConfig:
    """The ``catalog`` section: what candidates are compared with.

    Attributes
    ----------
    catalogs : str
        Folder like ``../shared/catalogs`` to flag candidates known or new; empty:
        ``training.catalogs``.
    kepler_eb_labels : list
        Labels tables with the Kepler EB catalogue's periods, matched by TIC.
    """

    catalogs: str = ""
    kepler_eb_labels: list = field(default_factory=list)


@dataclass(frozen=True)
class InferenceConfig:
    """The ``inference`` section.

    Attributes
    ----------
    batch_size : int
        Segments per prediction batch (memory is bounded by it).
    engine : str
        ``'auto'``, ``'keras'`` or ``'onnxruntime'``
        (:func:`ebscan.survey.inference.resolve_engine`).
    """

    batch_size: int = 256
    engine: str = "auto"


def parse_sectors(values: Iterable[int | str]) -> list[int]:
    """Sorted unique sectors from integers and ranges such as ``"1-74"``.

    Raises
    ------
    ValueError
        Naming the entry that is neither a positive integer nor an increasing range.
    """
    sectors: set[int] = set()
    for value in values:
        match = _RANGE.match(str(value))
        first = int(match.group(1)) if match else 0
        last = int(match.group(2) or first) if match else 0
        if not match or first < 1 or last < first:
            raise ValueError(f"sectors: {value!r} is not a sector number or a range like '1-74'")
        sectors.update(range(first, last + 1))
    if not sectors:
        raise ValueError("sectors: the list is empty")
    return sorted(sectors)


def preprocess_config(preprocess: dict, gls: dict) -> PreprocessConfig:
    """A :class:`PreprocessConfig` from the ``preprocess`` and ``gls`` config sections."""
    return PreprocessConfig(**preprocess, gls_method=gls["method"])


def survey_products(products: Mapping[str, dict | None], sectors: Iterable[int | str]) -> dict:
    """The ``products`` config section resolved: each product's sectors and bulk script.

    Parameters
    ----------
    products : mapping
        Product name (:data:`ebscan.acquire.products.PRODUCTS`) -> its options or None:
        ``sectors`` (default: ``sectors``) and ``bulk_script_url`` (default: MAST's
        script for the product); ``False`` leaves the product out (a config file given
        on the command line adds to ``config/config.yaml``'s products, never removes).
    sectors : iterable
        The survey's sectors (the top-level ``sectors``).

    Returns
    -------
    dict
        Product name -> ``{"sectors": [...], "bulk_script_url": ...}``, in config order.

    Raises
    ------
    ValueError
        Naming an unknown product or a bad sector entry, or when every product is left
        out.
    """
    resolved = {}
    for name, options in products.items():
        if options is False:
            continue
        options = options if isinstance(options, dict) else {}
        try:
            product = get_product(name)
            own = parse_sectors(options.get("sectors") or sectors)
        except ValueError as exc:
            raise ValueError(f"products: {name}: {exc}") from None
        resolved[name] = {
            "sectors": own,
            "bulk_script_url": options.get("bulk_script_url") or product.bulk_script_url,
        }
    if not resolved:
        raise ValueError("products: every product is set to false; survey at least one")
    return resolved
