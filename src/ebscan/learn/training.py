"""Training sets from labels and shards, and CALNet training that streams from shards."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import zlib
from collections.abc import Iterable

import h5py
import numpy as np

from ebscan.atomic import atomic_open, write_csv
from ebscan.config import TrainingConfig
from ebscan.labels.table import label_class, read_labels
from ebscan.lightcurves.shards import open_shard, shard_rows_inputs
from ebscan.paths import recorded, resolved
from ebscan.tables import read_table

TRAINING_FIELDS = ("shard", "row", "tic", "sector", "segment", "label", "subtype")


def build_training_set(
    shards: Iterable[str | os.PathLike],
    labels_csv: str | os.PathLike | Iterable[str | os.PathLike],
    output: str | os.PathLike,
) -> dict[str, int]:
    """Join labels to shard rows by (tic, sector) and write the training table (CSV).

    ``labels_csv`` is one labels table or several (e.g. catalog labels plus the truth
    of simulated augmentation); a later table wins where two label the same light curve.

    Returns
    -------
    dict
        Counts: ``positive``, ``negative``, ``unlabelled`` and ``excluded`` segments.
    """
    tables = [labels_csv] if isinstance(labels_csv, (str, os.PathLike)) else list(labels_csv)
    labels = {key: row for table in tables for key, row in read_labels(table).items()}
    rows, counts = [], {"positive": 0, "negative": 0, "unlabelled": 0, "excluded": 0}
    for shard in shards:
        with open_shard(shard) as f:
            table = f["segments"][()]
        for index, segment in enumerate(table):
            label = labels.get((int(segment["tic"]), int(segment["sector"])))
            if label is None:
                counts["unlabelled"] += 1
                continue
            positive = label_class(label["label"])
            if positive is None:
                counts["excluded"] += 1
                continue
            counts["positive" if positive else "negative"] += 1
            rows.append(
                {
                    "shard": recorded(shard, output),
                    "row": index,
                    "tic": int(segment["tic"]),
                    "sector": int(segment["sector"]),
                    "segment": int(segment["segment"]),
                    "label": int(positive),
                    "subtype": label.get("subtype", ""),
                }
            )
    write_csv(output, rows, TRAINING_FIELDS)
    return counts


def read_training_set(path: str | os.PathLike) -> list[dict]:
    """Rows of a training table, ``shard`` as an absolute path (the table records it
    relative to itself, :mod:`ebscan.paths`)."""
    return [
        {
            **r,
            "shard": resolved(r["shard"], path),
            "row": int(r["row"]),
            "tic": int(r["tic"]),
            "label": int(r["label"]),
        }
        for r in read_table(path, TRAINING_FIELDS, "training table")
    ]


def star_draw(tic: int, seed: int) -> float:
    """A number in [0, 1) that depends only on the TIC and the seed (a hash).

    Splits by star compare it with their fractions, so adding stars never moves the
    others from one side to another.
    """
    return zlib.crc32(f"{seed}:{tic}".encode()) / 2**32


def split_by_star(rows: list[dict], validation_fraction: float, seed: int):
    """Train / validation rows with every segment of a TIC on the same side."""

    def validation(tic: int) -> bool:
        return star_draw(tic, seed) < validation_fraction

    train = [r for r in rows if not validation(r["tic"])]
    held_out = [r for r in rows if validation(r["tic"])]
    return train, held_out


def _sequence_class():
    import keras

    class ShardSequence(keras.utils.PyDataset):
        """Batches of (model inputs, one-hot label) read from shards row by row.

        Memory is bounded by the batch: only the rows of one batch are read.
        """

        def __init__(self, rows, batch_size, inputs, shuffle_seed=None, first_epoch=0, **kwargs):
            super().__init__(**kwargs)
            self.rows, self.batch_size, self.inputs = rows, batch_size, inputs
            self.shuffle_seed, self.epoch = shuffle_seed, first_epoch
            self._files: dict[str, h5py.File] = {}
            self._shuffle()

        def __len__(self):
            return int(np.ceil(len(self.rows) / self.batch_size))

        def _file(self, name):
            if name not in self._files:
                self._files[name] = h5py.File(name, "r")
            return self._files[name]

        def __getitem__(self, index):
            batch = [self.rows[i] for i in self.order[index * self.batch_size :][: self.batch_size]]
            x = shard_rows_inputs(self.inputs, [(self._file(r["shard"]), r["row"]) for r in batch])
            y = np.eye(2, dtype=np.float32)[[row["label"] for row in batch]]
            return x, y

        def _shuffle(self):
            # The order depends on (seed, epoch) only, so a resumed run sees the
            # batches an uninterrupted one would.
            if self.shuffle_seed is None:
                self.order = np.arange(len(self.rows))
            else:
                rng = np.random.default_rng([self.shuffle_seed, self.epoch])
                self.order = rng.permutation(len(self.rows))

        def on_epoch_end(self):
            self.epoch += 1
            self._shuffle()

    return ShardSequence


HISTORY_FIELDS = ("epoch", "accuracy", "loss", "val_accuracy", "val_loss")


def _checkpoint_classes():
    import keras

    class ResumableEarlyStopping(keras.callbacks.EarlyStopping):
        """Early stopping whose state (best loss, wait, best weights) is saved and restored."""

        resume_from: dict | None = None

        def save_state(self, folder: str) -> dict:
            """Write the best weights (once per best epoch) to ``folder``; return the rest."""
            best = f"best-{self.best_epoch}.npz" if self.best_weights is not None else None
            if best is not None and not os.path.exists(os.path.join(folder, best)):
                _save_arrays(os.path.join(folder, best), self.best_weights)
            return {
                "wait": self.wait,
                "best": None if self.best is None else float(self.best),
                "best_epoch": self.best_epoch,
                "stopped_epoch": self.stopped_epoch,
                "best_weights": best,
            }

        def load_state(self, folder: str, state: dict) -> None:
            """Restore what :meth:`save_state` wrote, when training begins."""
            self.resume_from = dict(state)
            if state["best_weights"] is not None:
                self.resume_from["best_weights"] = _load_arrays(
                    os.path.join(folder, state["best_weights"])
                )

        def on_train_begin(self, logs=None):
            super().on_train_begin(logs)
            if self.resume_from is not None:
                for name, value in self.resume_from.items():
                    setattr(self, name, value)

    class EpochCheckpoint(keras.callbacks.Callback):
        """After every epoch, commit weights, optimizer, early-stopping state and history.

        Files carry the epoch in their names and ``state.json`` is replaced last, so a
        kill at any moment leaves either the previous or the new checkpoint whole.
        """

        def __init__(self, folder, fingerprint, early_stopping, history, history_path):
            super().__init__()
            self.folder, self.fingerprint = folder, fingerprint
            self.early_stopping, self.history = early_stopping, history
            self.history_path = history_path

        def on_epoch_end(self, epoch, logs=None):
            os.makedirs(self.folder, exist_ok=True)
            self.history.append({"epoch": epoch, **{k: float(v) for k, v in (logs or {}).items()}})
            weights = f"epoch-{epoch}.weights.h5"
            random = f"epoch-{epoch}.random.npz"
            _save_weights(self.model, os.path.join(self.folder, weights))
            _save_arrays(
                os.path.join(self.folder, random),
                [v.numpy() for v in _random_states(self.model)],
            )
            early_stopping = self.early_stopping.save_state(self.folder)
            state = {
                "fingerprint": self.fingerprint,
                "epoch": epoch + 1,
                "stopped": bool(self.model.stop_training),
                "weights": weights,
                "random": random,
                "early_stopping": early_stopping,
                "history": self.history,
            }
            with atomic_open(os.path.join(self.folder, "state.json")) as handle:
                json.dump(state, handle, indent=1)
            write_csv(self.history_path, self.history, HISTORY_FIELDS)
            for name in os.listdir(self.folder):
                if name not in {"state.json", weights, random, early_stopping["best_weights"]}:
                    os.remove(os.path.join(self.folder, name))

    return ResumableEarlyStopping, EpochCheckpoint


def _random_states(model) -> list:
    """The seed-generator states (dropout masks) that ``save_weights`` leaves out."""
    saved = {id(v) for v in model.weights}
    return [v for v in model.variables if id(v) not in saved]


def _save_arrays(path: str, arrays: list[np.ndarray]) -> None:
    with atomic_open(path, "wb") as handle:
        np.savez(handle, *arrays)


def _load_arrays(path: str) -> list[np.ndarray]:
    """The arrays :func:`_save_arrays` wrote, in their order."""
    with np.load(path) as stored:
        return [stored[f"arr_{i}"] for i in range(len(stored.files))]


def _save_weights(model, path: str) -> None:
    tmp = path + ".tmp.weights.h5"  # Keras insists on the .weights.h5 ending
    model.save_weights(tmp)
    os.replace(tmp, path)


def training_fingerprint(tables: Iterable[str | os.PathLike], settings: dict) -> str:
    """A hash of the training (and validation) tables and every setting that changes the weights.

    A checkpoint is resumed only when its fingerprint matches, so a stale backup from a
    different training set or configuration is never continued.
    """
    digest = hashlib.sha256(json.dumps(settings, sort_keys=True).encode())
    for table in tables:
        with open(table, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


def read_checkpoint(folder: str, fingerprint: str) -> dict | None:
    """The state of an interrupted training run checkpointed in ``folder``, or ``None``
    when there is none or it was made with other tables or settings (``fingerprint``,
    :func:`training_fingerprint`)."""
    try:
        with open(os.path.join(folder, "state.json")) as handle:
            state = json.load(handle)
    except (OSError, ValueError):
        return None
    return state if state.get("fingerprint") == fingerprint else None


def input_lengths(shards: Iterable[str | os.PathLike]) -> dict[str, int]:
    """A model's input lengths, ``lc_length`` and ``gls_length``, as the shards record them.

    The light-curve length is the ``n_lc`` the shards were made with (an attribute of
    each), the periodogram's the number of its trial periods (``gls_period``), so that
    a model always fits the vectors it is trained on.

    Raises
    ------
    ValueError
        Naming a shard whose lengths differ from the others'.
    """
    lengths: dict[str, int] = {}
    for shard in sorted({os.fspath(s) for s in shards}):
        with open_shard(shard) as f:
            found = {"lc_length": int(f.attrs["n_lc"])}
            if "gls_period" in f:
                found["gls_length"] = int(f["gls_period"].shape[0])
        if lengths and found != lengths:
            raise ValueError(f"{shard}: vectors of lengths {found}, other shards' {lengths}")
        lengths = found
    return lengths


def train_model(
    training_csv: str | os.PathLike,
    out_dir: str | os.PathLike,
    model: str = TrainingConfig.model,
    hparams: dict | None = None,
    epochs: int = TrainingConfig.epochs,
    batch_size: int = TrainingConfig.batch_size,
    learning_rate: float = TrainingConfig.learning_rate,
    validation_fraction: float = TrainingConfig.validation_fraction,
    patience: int = TrainingConfig.patience,
    class_weight: bool = TrainingConfig.class_weight,
    seed: int = TrainingConfig.seed,
    validation_csv: str | os.PathLike | None = None,
) -> dict:
    """Train a registry model from a training table; write ``model.keras`` and ``model.json``.

    Every epoch is checkpointed in ``out_dir/backup``; an interrupted run with the same
    training table and settings resumes there and ends with the weights an uninterrupted
    run gets. Early stopping watches the validation loss and restores the best weights.
    The validation segments are a ``validation_fraction`` of the table's stars, or,
    given ``validation_csv``, the rows of that table (all of ``training_csv`` then
    trains). The model's input lengths are the shards' (:func:`input_lengths`).

    Returns
    -------
    dict
        The resolved configuration and results saved as ``model.json``.
    """
    import keras

    from ebscan.models import build, input_names, resolve_hparams

    keras.utils.set_random_seed(seed)
    out_dir = os.fspath(out_dir)
    os.makedirs(out_dir, exist_ok=True)
    rows = read_training_set(training_csv)
    if not rows:
        raise ValueError(f"{training_csv}: no labelled segments to train on")
    if validation_csv is None:
        train_rows, val_rows = split_by_star(rows, validation_fraction, seed)
    else:
        train_rows, val_rows = rows, read_training_set(validation_csv)
    if not val_rows:
        raise ValueError(
            f"{training_csv}: no star left for validation; add stars or raise the fraction"
        )
    lengths = input_lengths(row["shard"] for row in [*rows, *val_rows])
    stated = {k: v for k, v in (hparams or {}).items() if k in lengths and v != lengths[k]}
    if stated:
        raise ValueError(f"hparams {stated} differ from the shards' vector lengths {lengths}")
    resolved = resolve_hparams(model, **{**lengths, **(hparams or {})})
    inputs = input_names(resolved)
    optimisation = {
        "batch_size": batch_size,
        "learning_rate": learning_rate,
        "validation_fraction": validation_fraction,
        "patience": patience,
        "class_weight": class_weight,
        "seed": seed,
    }
    # Everything but the epoch count: a resumed run may be asked for more epochs.
    settings = {"model": model, "hparams": resolved, **optimisation}
    backup = os.path.join(out_dir, "backup")
    tables = [training_csv] if validation_csv is None else [training_csv, validation_csv]
    fingerprint = training_fingerprint(tables, settings)
    state = read_checkpoint(backup, fingerprint)
    if state is None:
        shutil.rmtree(backup, ignore_errors=True)
    first_epoch = 0 if state is None else state["epoch"]
    sequence = _sequence_class()
    train_data = sequence(
        train_rows, batch_size, inputs, shuffle_seed=seed, first_epoch=first_epoch
    )
    val_data = sequence(val_rows, batch_size, inputs)
    net = build(model, **resolved)
    net.compile(
        optimizer=keras.optimizers.Adam(learning_rate, amsgrad=True),
        loss="categorical_crossentropy",
        metrics=["accuracy"],
    )
    weights = None
    if class_weight:
        labels = np.array([r["label"] for r in train_rows])
        weights = {c: len(labels) / (2.0 * max((labels == c).sum(), 1)) for c in (0, 1)}
    early_stopping_class, checkpoint_class = _checkpoint_classes()
    early_stopping = early_stopping_class("val_loss", patience=patience, restore_best_weights=True)
    history: list[dict] = []
    if state is not None:
        net.optimizer.build(net.trainable_variables)
        net.load_weights(os.path.join(backup, state["weights"]))
        stored = _load_arrays(os.path.join(backup, state["random"]))
        for variable, value in zip(_random_states(net), stored, strict=True):
            variable.assign(value)
        early_stopping.load_state(backup, state["early_stopping"])
        history = state["history"]
        if state["stopped"]:
            first_epoch = epochs  # early stopping had ended it: nothing left to train
    history_path = os.path.join(out_dir, "history.csv")
    net.fit(
        train_data,
        validation_data=val_data,
        epochs=epochs,
        initial_epoch=first_epoch,
        # The sequence shuffles rows by (seed, epoch); Keras' own batch shuffle draws
        # from Python's global RNG, which a resumed run cannot restore.
        shuffle=False,
        class_weight=weights,
        verbose=2,
        callbacks=[
            early_stopping,
            checkpoint_class(backup, fingerprint, early_stopping, history, history_path),
        ],
    )
    final = {k: v for k, v in history[-1].items() if k != "epoch"}
    config = {
        "model": model,
        "hparams": resolved,
        "training": {
            "training_set": os.fspath(training_csv),
            "validation_set": None if validation_csv is None else os.fspath(validation_csv),
            "epochs": epochs,
            **optimisation,
            "n_train": len(train_rows),
            "n_validation": len(val_rows),
            "n_positive": int(sum(r["label"] for r in rows)),
        },
        "final_metrics": final,
    }
    tmp = os.path.join(out_dir, ".model.keras.tmp.keras")
    net.save(tmp)
    os.replace(tmp, os.path.join(out_dir, "model.keras"))
    with atomic_open(os.path.join(out_dir, "model.json")) as handle:
        json.dump(config, handle, indent=2)
    shutil.rmtree(backup, ignore_errors=True)
    return config
