"""A trained linear reading of messages: weights over hashed features, loaded once, used with
numpy only (training is :mod:`conversations.understanding.training`, ``taros nlu train``).

A model file (``.npz``, no pickles) holds the sorted feature indexes it knows, one weight row per
index, one bias per class, the class names, and a JSON header: what it was trained on, when a
reading is sure enough to be pre-filled (``confident_at``, chosen on held-out predictions) and the
held-out figures it was chosen with. Reading a message costs one ``searchsorted`` and one small
matrix product: well under a millisecond.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from conversations.understanding.features import FeatureVector

__all__ = ["LinearModel", "Reading", "packaged_model_path"]

log = logging.getLogger(__name__)

FORMAT = 1


@dataclass(frozen=True, slots=True)
class Reading:
    """The most likely class, its probability, and every class's probability (best first)."""

    label: str
    probability: float
    ranked: tuple[tuple[str, float], ...]


@dataclass(frozen=True)
class LinearModel:
    """Multinomial logistic regression over hashed features."""

    classes: tuple[str, ...]
    indexes: npt.NDArray[np.int64]
    weights: npt.NDArray[np.float32]
    bias: npt.NDArray[np.float32]
    header: dict[str, Any] = field(default_factory=dict)

    @property
    def confident_at(self) -> float:
        """The probability from which a reading is right often enough to skip the question."""
        return float(self.header.get("confident_at", 1.0))

    def read(self, features: FeatureVector) -> Reading:
        scores = self.bias.astype(np.float64)
        if features.indexes:
            wanted = np.asarray(features.indexes, dtype=np.int64)
            at = np.searchsorted(self.indexes, wanted)
            at[at >= len(self.indexes)] = 0
            known = self.indexes[at] == wanted
            if known.any():
                values = np.asarray(features.values, dtype=np.float64)[known]
                scores = scores + values @ self.weights[at[known]].astype(np.float64)
        scores -= scores.max()
        probabilities = np.exp(scores)
        probabilities /= probabilities.sum()
        order = np.argsort(-probabilities, kind="stable")
        ranked = tuple((self.classes[i], float(probabilities[i])) for i in order)
        return Reading(ranked[0][0], ranked[0][1], ranked)

    # ------------------------------------------------------------------ files

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        header = {"format": FORMAT, "classes": list(self.classes), **self.header}
        with path.open("wb") as out:
            np.savez_compressed(
                out,
                indexes=self.indexes.astype(np.int64),
                weights=self.weights.astype(np.float32),
                bias=self.bias.astype(np.float32),
                header=np.array(json.dumps(header, sort_keys=True, ensure_ascii=False)),
            )

    @classmethod
    def load(cls, path: Path) -> LinearModel:
        with np.load(path, allow_pickle=False) as data:
            header = json.loads(str(data["header"]))
            if header.get("format") != FORMAT:
                raise ValueError(f"{path}: model format {header.get('format')}, want {FORMAT}")
            indexes = data["indexes"].astype(np.int64)
            if np.any(np.diff(indexes) <= 0):
                raise ValueError(f"{path}: feature indexes are not sorted")
            return cls(
                classes=tuple(header.pop("classes")),
                indexes=indexes,
                weights=data["weights"].astype(np.float32),
                bias=data["bias"].astype(np.float32),
                header=header,
            )

    @classmethod
    def load_or_none(cls, path: Path) -> LinearModel | None:
        """The model in ``path``; None (logged) when there is none or it cannot be read, so the
        rules alone answer."""
        if not path.is_file():
            return None
        try:
            return cls.load(path)
        except (OSError, ValueError, KeyError) as exc:
            log.error(
                "model not loaded, the rules answer alone",
                extra={"path": str(path), "error": str(exc)},
            )
            return None


def packaged_model_path(name: str) -> Path:
    """The model shipped with TAROS (``conversations/understanding/data/<name>``)."""
    return Path(str(resources.files("conversations.understanding").joinpath("data", name)))
