"""The recipe of ebscan's pretrained CALNet: data, training, calibration, held-out evaluation.

``python -m ebscan.learn.recipe --config config/pretrained.yaml`` (``make model``) rebuilds the
model that ships in :mod:`ebscan.learn.pretrained` from the labelled real light curves of
``../shared`` and the physical EB model, with fixed seeds:

1. **Stars and roles.** Every labelled real light curve (2-minute SPOC and 30-minute
   FFI) gets its star's role from a hash of the TIC and the seed: training, validation
   or test, so no star is on two sides. Every real 2-minute EB star is a test star: the
   few there are measure the 2-minute recall, and the model learns 2-minute EBs from
   injections instead.
2. **Examples.** For training and validation stars: the real light curves as they are
   (EBs with visible eclipses as positives, everything else as negatives); simulated EBs
   from :mod:`ebscan.sim.eclipses` (periods, morphologies and eclipse shapes of catalogued
   systems, depths down to what the light curve barely shows) multiplied into the light
   curves of the real non-EB stars, so that positives carry real noise, systematics and
   variability; impostors (transits, spots, pulsations, flares) injected the same way as
   negatives; the 2-minute hosts also binned to the cadences of full-frame images; and
   light curves simulated from scratch (:mod:`ebscan.sim.simulate`'s noise and systematics)
   with the same injections. An injected EB segment whose eclipses stay below
   ``min_snr`` is left out (not a negative).
3. **Shards.** Each example is preprocessed as the survey preprocesses a file (segments
   of at least ``PreprocessConfig.min_segment_days``, the paper's 2000 two-minute
   cadences, at every cadence); the training and validation examples are resampled
   with ``training_spline_mode``, the test examples with the survey's default, so
   that the held-out metrics are what a survey gets.
4. **Training** (:func:`ebscan.learn.training.train_model`) on the training examples, early
   stopping on the validation examples.
5. **Calibration.** Platt scaling of the score on the validation examples, folded into
   the weights of the output layer (the model file stays a plain Keras model).
6. **Evaluation** on the real light curves of the test stars only, per cadence and per
   class, per light curve (its best segment, as the catalog ranks a star) and per
   segment; and the recall of EBs injected into test stars against their S/N.
7. ``--install`` copies the model, its ONNX export and its card data into the package.

Every step writes under ``--work`` and is skipped when its output is there; the folder
records the settings it was made with (``recipe.json``), and the recipe refuses a folder
made with other settings (:func:`claim_work`).
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import shutil
import time
import zlib
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from types import SimpleNamespace

import numpy as np

from ebscan.atomic import atomic_open, write_csv
from ebscan.config import InferenceConfig, PreprocessConfig
from ebscan.learn.evaluation import binary_metrics, precision_recall_curve, roc_curve, score_rows
from ebscan.learn.training import star_draw
from ebscan.lightcurves.io import read_lightcurve
from ebscan.lightcurves.periodogram import calnet_period_grid
from ebscan.lightcurves.preprocess import FileResult, preprocess_lightcurve
from ebscan.paths import recorded, resolved
from ebscan.sim.eclipses import EclipsePopulation
from ebscan.sim.injection import (
    bin_lightcurve,
    inject_signal,
    scatter,
    signal_to_noise,
)
from ebscan.sim.signals import EB_MORPHOLOGY, SIGNALS
from ebscan.sim.simulate import SimulatedStar, simulate_lightcurve

#: The labelled real sets in ``shared/data``: folder -> cadence (minutes).
REAL_SETS = {"tess-spoc-2min": 2.0, "tess-ffi-30min": 30.0, "tess-ffi-30min-kepler": 30.0}

#: Label in a shared labels.csv -> class reported in the model card.
CLASSES = {
    "EB": "EB",
    "NONVAR": "non-variable",
    "non-EB-unverified": "unverified",
    "GDOR": "gamma Dor",
    "DSCT": "delta Sct",
    "RRLYR_C": "RR Lyr",
    "RRLYR_AB": "RR Lyr",
    "non-EB": "flaring or jumping",
    "planet-host": "planet host",
    "planet-candidate": "planet host",
}
#: Class of a catalogued EB whose eclipses this sector does not show.
HIDDEN_EB = "EB, eclipses not visible"
#: Class of the light curves the recipe simulates from scratch.
SIMULATED_CLASS = "simulated"

IMPOSTORS = ("planet_transit", "rotator", "delta_scuti", "gamma_doradus", "rr_lyrae", "flare_star")
EB_SUBTYPES = tuple(EB_MORPHOLOGY)


@dataclass(frozen=True)
class RecipeConfig:
    """Every setting of the recipe (``config/pretrained.yaml`` gives them all).

    Attributes
    ----------
    shared : str
        The shared folder (``data/`` and ``catalogs/``), relative to the config file.
    seed : int
        Seeds the roles, every drawn example, and training.
    test_fraction, validation_fraction : float
        Shares of the stars (not light curves) held out for testing and validation.
    eb_injections, impostor_injections : dict
        Injections per host light curve, by cadence (``"2"``, ``"30"`` minutes, and
        the binned cadences).
    binned_minutes : list of float
        Cadences the 2-minute hosts are also binned to (full-frame-image cadences).
    shallow_fraction : float
        Share of injected EBs whose depth is scaled down, log-uniformly by up to
        ``min_depth_scale``, below the catalogued one.
    min_depth_scale : float
        Smallest depth scale.
    min_snr : float
        Injected EB segments below this S/N are left out.
    population_without_test_stars : bool
        Draw the injected EBs from the catalogues less the test stars' systems, so
        that no held-out star's period or eclipse shapes a training example. False
        for the shipped model, whose examples drew on them (periods and eclipse
        shapes, never a held-out light curve); true in run v11 of
        ``docs/model-card.md``, which was no better on the held-out stars.
    training_spline_mode : str
        Resampling of the training and validation examples
        (:data:`ebscan.lightcurves.resample.SPLINE_MODES`); the test and sensitivity
        examples always get the survey's (``PreprocessConfig.spline_mode``).
    simulated_stars : int
        Light curves simulated from scratch (2-minute, sectors 1-2), each given one
        injected signal or none.
    real_repeats : int
        Times each segment of a real light curve as it is (no injection) enters the
        training table: the real EBs are a few hundred segments among thousands of
        injected ones, and repeating them weighs real eclipses, noise and variability
        more. Validation counts every segment once.
    model : str
        Registry model (:data:`ebscan.models.MODELS`).
    hparams : dict
        Hyperparameters over the model's defaults.
    epochs, batch_size, learning_rate, patience : int, int, float, int
        Optimisation (Adam with amsgrad, early stopping on validation loss).
    threshold : float
        Score threshold of the reported metrics (the survey's).
    jobs : int
        Worker processes for the examples.
    """

    shared: str
    seed: int
    test_fraction: float
    validation_fraction: float
    eb_injections: dict
    impostor_injections: dict
    binned_minutes: list
    shallow_fraction: float
    min_depth_scale: float
    min_snr: float
    population_without_test_stars: bool
    training_spline_mode: str
    simulated_stars: int
    real_repeats: int
    model: str
    hparams: dict
    epochs: int
    batch_size: int
    learning_rate: float
    patience: int
    threshold: float
    jobs: int

    @classmethod
    def from_yaml(cls, path: str | os.PathLike) -> RecipeConfig:
        """Read a recipe config; ``shared`` is resolved against the file's folder."""
        import yaml

        with open(path) as handle:
            values = yaml.safe_load(handle)
        names = {f.name for f in fields(cls)}
        unknown, missing = sorted(set(values) - names), sorted(names - set(values))
        if unknown or missing:
            raise ValueError(f"{path}: unknown keys {unknown}, missing keys {missing}")
        values["shared"] = os.path.normpath(Path(path).parent / values["shared"])
        return cls(**values)


#: Settings that change no product of the recipe, only how fast it is made.
_SPEED_SETTINGS = ("jobs",)
#: What the recipe writes into a work folder and reuses on a rerun.
_PRODUCTS = ("examples.csv", "model", "evaluation")
#: Settings added after work folders began recording theirs, each with the value that
#: does what the recipe did before it (a record without the setting made that).
_ADDED_SETTINGS = {"real_repeats": 1}


def claim_work(config: RecipeConfig, work: Path) -> None:
    """Record ``config`` in ``work/recipe.json``, or check that it is the one recorded.

    The recipe reuses what a work folder holds (the examples and shards, the trained
    model), so a folder made with other settings would silently give their products.

    Raises
    ------
    ValueError
        If ``work`` was made with other settings (naming them; ``jobs`` may differ; a
        record without a setting of :data:`_ADDED_SETTINGS` made its old value), or
        holds products but no record of their settings (a folder of an ebscan from
        before the record).
    """
    settings = {k: v for k, v in asdict(config).items() if k not in _SPEED_SETTINGS}
    settings["shared"] = os.path.abspath(settings["shared"])
    record = work / "recipe.json"
    if record.exists():
        recorded_settings = {**_ADDED_SETTINGS, **json.loads(record.read_text())}
        changed = sorted(
            key
            for key in settings.keys() | recorded_settings.keys()
            if settings.get(key) != recorded_settings.get(key)
        )
        if changed:
            raise ValueError(
                f"{work} was made with other settings ({', '.join(changed)}); "
                "give the recipe a new --work folder"
            )
        return
    unrecorded = [name for name in _PRODUCTS if (work / name).exists()]
    if unrecorded:
        raise ValueError(
            f"{work} holds {', '.join(unrecorded)} of a run whose settings it does not "
            "record; give the recipe a new --work folder"
        )
    with atomic_open(record) as handle:
        json.dump(settings, handle, indent=2)


def role_of(tic: int, seed: int, test_fraction: float, validation_fraction: float) -> str:
    """``train``, ``validation`` or ``test`` for a star, from a hash of its TIC and the seed."""
    u = star_draw(tic, seed)
    if u < test_fraction:
        return "test"
    return "validation" if u < test_fraction + validation_fraction else "train"


def real_light_curves(config: RecipeConfig) -> list[dict]:
    """The labelled real light curves of ``shared/data`` with their class, cadence and role."""
    rows = []
    for folder, cadence in REAL_SETS.items():
        directory = Path(config.shared) / "data" / folder
        with open(directory / "labels.csv", newline="") as handle:
            for row in csv.DictReader(handle):
                if row["label"] not in CLASSES or not row["tic"]:
                    continue  # a corrupt file
                visible = row.get("eclipses_visible", "1") in ("1", "")
                label_class = CLASSES[row["label"]]
                if label_class == "EB" and not visible:
                    label_class = HIDDEN_EB
                tic = int(row["tic"])
                role = role_of(tic, config.seed, config.test_fraction, config.validation_fraction)
                if label_class == "EB" and cadence == 2.0:
                    role = "test"
                rows.append(
                    {
                        "path": str(directory / row["file"]),
                        "set": folder,
                        "tic": tic,
                        "sector": int(row["sector"]),
                        "cadence": cadence,
                        "class": label_class,
                        "role": role,
                    }
                )
    # A star in two sets (2-minute and 30-minute) has one role: its first one.
    first = {}
    for row in rows:
        first.setdefault(row["tic"], row["role"])
    for row in rows:
        row["role"] = first[row["tic"]]
    return rows


@dataclass(frozen=True)
class Example:
    """One light curve to make and preprocess: a real one, or a signal injected into a host.

    Attributes
    ----------
    key : str
        Unique name; seeds the example's randomness.
    role : str
        ``train``, ``validation``, ``test`` or ``sensitivity`` (EBs injected into test
        stars, for the recall against S/N).
    host : str
        The host light-curve file, or ``simulated:<TIC>:<sector>`` for a quiet star
        simulated from scratch.
    host_class : str
        Class of the host (:data:`CLASSES`, :data:`HIDDEN_EB` or ``simulated``).
    cadence : float
        Cadence of the example (minutes): the host's, or the one it is binned to.
    binned : bool
        Whether the host is binned to ``cadence``.
    signal : str
        Injected subtype (:data:`ebscan.sim.signals.SIGNALS`), or ``""`` for none.
    """

    key: str
    role: str
    host: str
    host_class: str
    cadence: float
    binned: bool = False
    signal: str = ""


def _injections(config: RecipeConfig, cadence: float) -> tuple[int, int]:
    key = f"{cadence:g}"
    return config.eb_injections[key], config.impostor_injections[key]


def _with_injections(
    config: RecipeConfig, key: str, role: str, host: str, host_class: str, cadence: float,
    binned: bool = False,
) -> Iterator[Example]:  # fmt: skip
    """A host light curve as it is, then with its EBs and impostors injected."""
    yield Example(key, role, host, host_class, cadence, binned)
    n_eb, n_impostors = _injections(config, cadence)
    for i in range(n_eb):
        subtype = EB_SUBTYPES[zlib.crc32(f"{key}:eb{i}".encode()) % len(EB_SUBTYPES)]
        yield Example(f"{key}:eb{i}", role, host, host_class, cadence, binned, subtype)
    for i in range(n_impostors):
        subtype = IMPOSTORS[zlib.crc32(f"{key}:imp{i}".encode()) % len(IMPOSTORS)]
        yield Example(f"{key}:imp{i}", role, host, host_class, cadence, binned, subtype)


#: The classes that host injections: stars that are neither EBs nor planet hosts.
HOST_CLASSES = frozenset(
    {"non-variable", "unverified", "gamma Dor", "delta Sct", "RR Lyr", "flaring or jumping"}
)


def examples(config: RecipeConfig, real: list[dict]) -> list[Example]:
    """Every example of the recipe, in a fixed order."""
    out = []
    for row in real:
        key = f"{row['set']}/{Path(row['path']).name}"
        cadence = row["cadence"]
        if row["role"] == "test":
            out.append(Example(key, "test", row["path"], row["class"], cadence))
            if row["class"] in HOST_CLASSES:
                n_eb, _ = _injections(config, cadence)
                out += [
                    Example(f"{key}:eb{i}", "sensitivity", row["path"], row["class"], cadence,
                            signal=EB_SUBTYPES[i % len(EB_SUBTYPES)])
                    for i in range(n_eb)
                ]  # fmt: skip
            continue
        if row["class"] not in HOST_CLASSES:
            out.append(Example(key, row["role"], row["path"], row["class"], cadence))
            continue
        out += _with_injections(config, key, row["role"], row["path"], row["class"], cadence)
        if cadence == 2.0:
            for minutes in config.binned_minutes:
                out += _with_injections(
                    config, f"{key}@{minutes:g}", row["role"], row["path"], row["class"],
                    minutes, binned=True,
                )  # fmt: skip
    from ebscan.sim.simulate import SIMULATED_TIC_BASE

    rng = np.random.default_rng(config.seed)
    signals = ["", *EB_SUBTYPES, *EB_SUBTYPES, *IMPOSTORS]
    for i in range(config.simulated_stars):
        tic, sector = SIMULATED_TIC_BASE + i, 1 + i % 2
        role = role_of(tic, config.seed, config.test_fraction, config.validation_fraction)
        if role == "test":
            continue  # simulated stars never measure the model
        host = f"simulated:{tic}:{sector}"
        signal = signals[rng.integers(len(signals))]
        out.append(
            Example(f"{host}:{signal or 'none'}", role, host, SIMULATED_CLASS, 2.0, False, signal)
        )
    return out


def _host(example: Example, seed: int):
    if example.host.startswith("simulated:"):
        _, tic, sector = example.host.split(":")
        rng = np.random.default_rng([seed, int(tic)])
        star = SimulatedStar(
            tic=int(tic), sector=int(sector), subtype="quiet", label="non-EB",
            tmag=round(float(rng.uniform(7.0, 13.0)), 3), ra=0.0, dec=0.0,
        )  # fmt: skip
        return simulate_lightcurve(star, seed)[0]
    lc = read_lightcurve(example.host)
    return bin_lightcurve(lc, example.cadence) if example.binned else lc


def make_example(job: tuple[Example, RecipeConfig, EclipsePopulation]) -> tuple[FileResult, list]:
    """Make one example: its preprocessed segments and one label per segment.

    A label is 1 (EB), 0 (not an EB) or None (left out of training: an injected EB whose
    eclipses in that segment stay below the S/N threshold, or a catalogued EB whose
    eclipses the sector does not show). Each label comes with the segment's S/N.
    """
    example, config, population = job
    rng = np.random.default_rng(zlib.crc32(f"{config.seed}:{example.key}".encode()))
    lc = _host(example, config.seed)
    relative = None
    if example.signal:
        options = {}
        if SIGNALS[example.signal][0] == "EB":
            shallow = rng.random() < config.shallow_fraction
            scale = math.exp(rng.uniform(math.log(config.min_depth_scale), 0)) if shallow else 1
            options = {"population": population, "depth_scale": scale}
        lc, relative = inject_signal(rng, lc, example.signal, **options)
    # The survey's segments (PreprocessConfig.min_segment_days at the light curve's own
    # cadence); the training examples' own resampling.
    result = preprocess_lightcurve(lc, preprocess_config_for(config, example.role))
    result.path = example.key
    labels = []
    good = (lc.quality == 0) & np.isfinite(lc.flux) & np.isfinite(lc.time)
    noise = scatter(lc.time[good], lc.flux[good] / (relative[good] if relative is not None else 1))
    for segment in result.segments:
        inside = (lc.time >= segment["t_start"]) & (lc.time <= segment["t_end"])
        inside &= good
        if relative is None:
            label = {"EB": 1, HIDDEN_EB: None}.get(example.host_class, 0)
            labels.append((label, math.nan))
        elif SIGNALS[example.signal][0] == "EB":
            snr = signal_to_noise(relative[inside], noise)
            labels.append((1 if snr >= config.min_snr else None, snr))
        else:
            labels.append((0, signal_to_noise(relative[inside], noise)))
    return result, labels


def preprocess_config_for(config: RecipeConfig, role: str) -> PreprocessConfig:
    """How the examples of ``role`` are preprocessed: as the survey does, but resampled
    with ``training_spline_mode`` for training and validation."""
    if role in ("train", "validation"):
        return PreprocessConfig(spline_mode=config.training_spline_mode)
    return PreprocessConfig()


#: Columns of the examples table: one row per segment of every example.
EXAMPLE_FIELDS = (
    "shard", "row", "tic", "sector", "segment", "label", "subtype",
    "key", "role", "host_class", "cadence", "signal", "snr",
)  # fmt: skip


def build_shards(
    config: RecipeConfig, work: Path, all_examples: list[Example], real: list[dict]
) -> Path:
    """Preprocess every example into one shard per role; write the examples table.

    The injected EBs are drawn from the catalogues' systems, less those of the test
    stars of ``real`` (:func:`real_light_curves`) where
    ``config.population_without_test_stars`` says so.
    """
    from ebscan.lightcurves.shards import ShardWriter

    table = work / "examples.csv"
    if table.exists():
        return table
    held_out = {r["tic"] for r in real if r["role"] == "test"}
    population = EclipsePopulation.from_catalogs(
        Path(config.shared) / "catalogs",
        [Path(config.shared) / "data" / folder / "labels.csv" for folder in REAL_SETS],
        exclude_tics=held_out if config.population_without_test_stars else frozenset(),
    )
    print(f"EB population: {population.source}", flush=True)
    rows = []
    roles = sorted({e.role for e in all_examples})
    for role in roles:
        chosen = [e for e in all_examples if e.role == role]
        shard = work / f"{role}.h5"
        counts = {}
        with (
            ProcessPoolExecutor(config.jobs) as pool,
            ShardWriter(shard, preprocess_config_for(config, role), calnet_period_grid()) as writer,
        ):
            jobs = ((e, config, population) for e in chosen)
            written = 0
            for example, (result, labels) in zip(
                chosen, pool.map(make_example, jobs, chunksize=4), strict=True
            ):
                first, written = written, written + len(result.segments)
                writer.add(result)
                for i, (segment, (label, snr)) in enumerate(
                    zip(result.segments, labels, strict=True)
                ):
                    rows.append(
                        {
                            "shard": recorded(shard, table), "row": first + i, "tic": result.tic,
                            "sector": result.sector, "segment": segment["segment"],
                            "label": "" if label is None else label,
                            "subtype": f"{example.host_class}/{example.signal or 'none'}",
                            "key": example.key, "role": role, "host_class": example.host_class,
                            "cadence": f"{example.cadence:g}", "signal": example.signal,
                            "snr": "" if math.isnan(snr) else f"{snr:.1f}",
                        }
                    )  # fmt: skip
                    counts[label] = counts.get(label, 0) + 1
        print(f"{shard}: {len(chosen)} light curves, segments by label {counts}", flush=True)
    write_csv(table, rows, EXAMPLE_FIELDS)
    return table


def _is_real(row: dict) -> bool:
    """A real light curve as it is: nothing injected, not simulated."""
    return row["signal"] == "" and row["host_class"] != SIMULATED_CLASS


def read_examples(table: Path) -> list[dict]:
    """Rows of the examples table, ``shard`` as an absolute path."""
    with open(table, newline="") as handle:
        return [{**row, "shard": resolved(row["shard"], table)} for row in csv.DictReader(handle)]


def training_tables(work: Path, table: Path, real_repeats: int) -> tuple[Path, Path]:
    """The training and validation tables of :func:`ebscan.learn.training.train_model`.

    A training segment of a real light curve as it is comes ``real_repeats`` times
    (``RecipeConfig.real_repeats``).
    """
    from ebscan.learn.training import TRAINING_FIELDS

    if real_repeats < 1:
        raise ValueError(f"real_repeats must be 1 or more, not {real_repeats}")
    rows = read_examples(table)
    paths = []
    for role in ("train", "validation"):
        path = work / f"{role}.csv"
        chosen = [
            {**r, "shard": recorded(r["shard"], path)}
            for r in rows
            if r["role"] == role and r["label"] != ""
            for _ in range(real_repeats if role == "train" and _is_real(r) else 1)
        ]
        write_csv(path, chosen, TRAINING_FIELDS)
        paths.append(path)
    return paths[0], paths[1]


def _logits(model, rows: list[dict], batch_size: int = InferenceConfig.batch_size) -> np.ndarray:
    """The output layer's logit difference (EB minus non-EB) for shard rows."""
    import keras

    output = model.get_layer("output")
    hidden = keras.Model(model.inputs, output.input)
    kernel, bias = output.get_weights()

    def difference(x: dict) -> np.ndarray:
        z = hidden.predict_on_batch(x) @ kernel + bias
        return np.stack([np.zeros(len(z)), z[:, 1] - z[:, 0]], axis=1)

    predictor = SimpleNamespace(
        input_names=[t.name for t in model.inputs], predict_on_batch=difference
    )
    return score_rows(predictor, rows, batch_size)


def fit_platt(logits: np.ndarray, labels: np.ndarray) -> tuple[float, float]:
    """Slope and offset of the logistic calibration ``sigmoid(a * logit + b)`` (Platt 1999).

    Maximum likelihood with Platt's smoothed targets, which keep a perfectly separated
    validation set from driving the slope to infinity.
    """
    from scipy.optimize import minimize

    n_pos, n_neg = labels.sum(), labels.size - labels.sum()
    target = np.where(labels == 1, (n_pos + 1) / (n_pos + 2), 1 / (n_neg + 2))

    def loss(params):
        z = params[0] * logits + params[1]
        return np.sum(np.logaddexp(0, z) - target * z)

    result = minimize(loss, x0=[1.0, 0.0], method="Nelder-Mead", options={"xatol": 1e-6})
    return float(result.x[0]), float(result.x[1])


def calibrate(model, slope: float, offset: float) -> None:
    """Fold ``sigmoid(slope * logit + offset)`` into the output layer, in place."""
    output = model.get_layer("output")
    kernel, bias = output.get_weights()
    output.set_weights([slope * kernel, slope * bias + np.array([0.0, offset], dtype=bias.dtype)])


def train_and_calibrate(config: RecipeConfig, work: Path, table: Path) -> Path:
    """Train, calibrate on the validation examples, export to ONNX; return the model folder."""
    from ebscan.learn.training import train_model
    from ebscan.models import build, load_model
    from ebscan.models.onnx.export import export_onnx

    out = work / "model"
    calibrated = out / "calibrated.keras"
    if calibrated.exists():
        return out
    train_csv, validation_csv = training_tables(work, table, config.real_repeats)
    started = time.perf_counter(), time.process_time()
    train_model(
        train_csv, out, config.model, config.hparams, config.epochs, config.batch_size,
        config.learning_rate, patience=config.patience, seed=config.seed,
        validation_csv=validation_csv,
    )  # fmt: skip
    wall, cpu = time.perf_counter() - started[0], time.process_time() - started[1]
    model = load_model(out / "model.keras")
    rows = [r for r in read_examples(table) if r["role"] == "validation" and r["label"] != ""]
    labels = np.array([int(r["label"]) for r in rows])
    slope, offset = fit_platt(_logits(model, rows), labels)
    calibrate(model, slope, offset)
    with open(out / "model.json") as handle:
        card = json.load(handle)
    card["calibration"] = {
        "method": "Platt scaling of the logit on the validation examples, folded into the "
        "output layer",
        "slope": slope,
        "offset": offset,
        "validation_segments": len(rows),
    }
    card["training"]["wall_seconds"] = round(wall, 1)
    card["training"]["cpu_seconds"] = round(cpu, 1)
    card["recipe"] = asdict(config)
    with atomic_open(out / "model.json") as handle:
        json.dump(card, handle, indent=2)
    # An uncompiled copy: the optimizer's state (twice the weights again) is of no use
    # for scoring and would triple the file.
    plain = build(config.model, **card["hparams"])
    plain.set_weights(model.get_weights())
    tmp = out / ".calibrated.tmp.keras"
    plain.save(tmp)
    os.replace(tmp, calibrated)
    export_onnx(calibrated, out / "calibrated.onnx")
    return out


def per_light_curve(rows: list[dict], scores: np.ndarray) -> list[dict]:
    """One row per example: its best segment's score, its class, cadence and best S/N."""
    best: dict[str, dict] = {}
    for row, score in zip(rows, scores, strict=True):
        entry = best.setdefault(
            row["key"],
            {"key": row["key"], "tic": row["tic"], "sector": row["sector"],
             "cadence": row["cadence"], "class": row["host_class"], "signal": row["signal"],
             "role": row["role"], "score": -1.0, "snr": 0.0, "label": row["label"]},
        )  # fmt: skip
        entry["score"] = max(entry["score"], float(score))
        if row["snr"]:
            entry["snr"] = max(entry["snr"], float(row["snr"]))
        if row["label"] == "1":  # an injected EB counts where one segment shows it
            entry["label"] = "1"
    return list(best.values())


#: S/N bins of the injected-EB recall.
SNR_BINS = (10, 20, 50, 100, math.inf)


def test_metrics(curves: list[dict], threshold: float) -> dict:
    """Metrics of held-out light curves at ``threshold``, per cadence and class.

    For each cadence: per class the number of light curves and the fraction at or
    above the threshold (the recall for EB classes, the false-positive rate for the
    others); ROC and PR AUC of the EBs with visible eclipses against every non-EB class
    (planet hosts included); and for EBs injected into test stars, the recall per S/N
    bin.
    """

    out = {}
    for cadence in sorted({c["cadence"] for c in curves}, key=float):
        real = [c for c in curves if c["cadence"] == cadence and c["role"] == "test"]
        per_class = {}
        for name in sorted({c["class"] for c in real}):
            scores = np.array([c["score"] for c in real if c["class"] == name])
            per_class[name] = {
                "light_curves": int(scores.size),
                "above_threshold": int(np.sum(scores >= threshold)),
                "fraction_above": float(np.mean(scores >= threshold)),
            }
        ranked = [c for c in real if c["class"] != HIDDEN_EB]
        labels = np.array([c["class"] == "EB" for c in ranked], dtype=int)
        overall = binary_metrics(labels, np.array([c["score"] for c in ranked]), threshold)
        injected = [c for c in curves if c["cadence"] == cadence and c["role"] == "sensitivity"]
        sensitivity = {}
        for low, high in zip((0, *SNR_BINS[:-1]), SNR_BINS, strict=True):
            scores = np.array([c["score"] for c in injected if low <= c["snr"] < high])
            sensitivity[f"{low}-{high}"] = {
                "light_curves": int(scores.size),
                "recall": float(np.mean(scores >= threshold)) if scores.size else None,
            }
        out[f"{cadence}-min"] = {
            "per_class": per_class,
            "eb_vs_non_eb": overall,
            "injected_eb_recall_by_snr": sensitivity,
        }
    return out


def _plot_curves(curves: list[dict], threshold: float, out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    roc, pr = plt.subplots(figsize=(4.5, 4)), plt.subplots(figsize=(4.5, 4))
    for cadence in sorted({c["cadence"] for c in curves}, key=float):
        ranked = [
            c for c in curves
            if c["cadence"] == cadence and c["role"] == "test" and c["class"] != HIDDEN_EB
        ]  # fmt: skip
        labels = np.array([c["class"] == "EB" for c in ranked], dtype=int)
        scores = np.array([c["score"] for c in ranked])
        if 0 < labels.sum() < labels.size:
            fpr, tpr = roc_curve(labels, scores)
            roc[1].plot(
                fpr, tpr, label=f"{cadence}-min ({labels.sum()} EB, {(1 - labels).sum()} not)"
            )
            precision, recall = precision_recall_curve(labels, scores)
            pr[1].step(recall, precision, where="post", label=f"{cadence}-min")
    roc[1].set(xlabel="false-positive rate", ylabel="recall", title="Held-out light curves")
    pr[1].set(xlabel="recall", ylabel="precision", title="Held-out light curves")
    for figure, axes, name in ((*roc, "roc.png"), (*pr, "pr.png")):
        axes.legend(fontsize=8)
        figure.tight_layout()
        with atomic_open(out / name, "wb") as handle:
            figure.savefig(handle, format="png", dpi=90)
        plt.close(figure)
    # Reliability: the fraction of EBs among held-out light curves per score bin.
    figure, axes = plt.subplots(figsize=(4.5, 4))
    edges = np.linspace(0, 1, 11)
    for cadence in sorted({c["cadence"] for c in curves}, key=float):
        ranked = [
            c for c in curves
            if c["cadence"] == cadence and c["role"] == "test" and c["class"] != HIDDEN_EB
        ]  # fmt: skip
        scores = np.array([c["score"] for c in ranked])
        labels = np.array([c["class"] == "EB" for c in ranked])
        which = np.clip(np.digitize(scores, edges) - 1, 0, 9)
        centres, fractions = [], []
        for b in range(10):
            if np.any(which == b):
                centres.append(scores[which == b].mean())
                fractions.append(labels[which == b].mean())
        axes.plot(centres, fractions, "o-", label=f"{cadence}-min")
    axes.plot([0, 1], [0, 1], ":", color="grey")
    axes.axvline(threshold, color="grey", lw=0.5)
    axes.set(xlabel="score (bin mean)", ylabel="fraction of EBs", title="Calibration")
    axes.legend(fontsize=8)
    figure.tight_layout()
    with atomic_open(out / "reliability.png", "wb") as handle:
        figure.savefig(handle, format="png", dpi=90)
    plt.close(figure)


def evaluate(config: RecipeConfig, work: Path, table: Path, model_dir: Path) -> dict:
    """Score the test and sensitivity examples with the calibrated ONNX model; write metrics
    (with the resampling of the test examples, from their shard)."""
    from ebscan.lightcurves.shards import config_from_attrs, open_shard
    from ebscan.survey.inference import OnnxPredictor

    out = work / "evaluation"
    if (out / "metrics.json").exists():
        return json.loads((out / "metrics.json").read_text())
    rows = [r for r in read_examples(table) if r["role"] in ("test", "sensitivity")]
    scores = score_rows(OnnxPredictor(model_dir / "calibrated.onnx", config.jobs), rows)
    out.mkdir(parents=True, exist_ok=True)
    segments = out / "segments.csv"
    write_csv(
        segments,
        [
            {**r, "shard": recorded(r["shard"], segments), "score": f"{s:.6f}"}
            for r, s in zip(rows, scores, strict=True)
        ],
        [*EXAMPLE_FIELDS, "score"],
    )
    curves = per_light_curve(rows, scores)
    write_csv(out / "light_curves.csv", curves, list(curves[0]))
    with open_shard(work / "test.h5") as shard:
        resampling = config_from_attrs(shard.attrs).spline_mode
    metrics = {
        "threshold": config.threshold,
        "test_spline_mode": resampling,
        "per_light_curve": test_metrics(curves, config.threshold),
    }
    segment_curves = [
        {"key": f"{r['key']}#{r['segment']}", "cadence": r["cadence"], "class": r["host_class"],
         "role": r["role"], "score": float(s), "snr": float(r["snr"] or 0), "label": r["label"]}
        for r, s in zip(rows, scores, strict=True)
    ]  # fmt: skip
    metrics["per_segment"] = test_metrics(segment_curves, config.threshold)
    _plot_curves(curves, config.threshold, out)
    with atomic_open(out / "metrics.json") as handle:
        json.dump(metrics, handle, indent=2)
    return metrics


def light_curve_list(real: list[dict], path: Path) -> None:
    """The real light curves of the recipe, by TIC and sector, with their role and class."""
    write_csv(
        path,
        sorted(real, key=lambda r: (r["role"], r["cadence"], r["tic"], r["sector"])),
        ["tic", "sector", "cadence", "class", "role", "set"],
    )


def install(work: Path, model_dir: Path, real: list[dict], destination: Path, card: Path) -> None:
    """Copy the calibrated model and its records into the package and the model card folder."""
    destination.mkdir(parents=True, exist_ok=True)
    shutil.copy(model_dir / "calibrated.keras", destination / "model.keras")
    shutil.copy(model_dir / "calibrated.onnx", destination / "model.onnx")
    metrics = json.loads((work / "evaluation" / "metrics.json").read_text())
    description = json.loads((model_dir / "model.json").read_text())
    description["test_metrics"] = metrics
    (destination / "model.json").write_text(json.dumps(description, indent=2) + "\n")
    light_curve_list(real, destination / "light_curves.csv")
    shutil.copy(model_dir / "history.csv", destination / "history.csv")
    card.mkdir(parents=True, exist_ok=True)
    for name in ("roc.png", "pr.png", "reliability.png", "metrics.json"):
        shutil.copy(work / "evaluation" / name, card / name)
    shutil.copy(work / "evaluation" / "light_curves.csv", card / "test_scores.csv")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m ebscan.learn.recipe", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--config", default="config/pretrained.yaml")
    parser.add_argument("--work", default="build/pretrained", help="working folder")
    parser.add_argument(
        "--install",
        action="store_true",
        help="copy the model into src/ebscan/models/pretrained and its card data to "
        "docs/model-card",
    )
    args = parser.parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    config = RecipeConfig.from_yaml(args.config)
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    try:
        claim_work(config, work)
    except ValueError as exc:
        parser.exit(2, f"{parser.prog}: error: {exc}\n")
    real = real_light_curves(config)
    light_curve_list(real, work / "real_light_curves.csv")
    all_examples = examples(config, real)
    print(f"{len(real)} real light curves, {len(all_examples)} examples", flush=True)
    table = build_shards(config, work, all_examples, real)
    model_dir = train_and_calibrate(config, work, table)
    metrics = evaluate(config, work, table, model_dir)
    print(json.dumps(metrics["per_light_curve"], indent=1))
    if args.install:
        from ebscan.learn.pretrained import PRETRAINED

        install(work, model_dir, real, PRETRAINED, Path("docs") / "model-card")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
