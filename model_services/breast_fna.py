"""Training of the ``breast-fna`` classifier on scikit-learn's bundled FNA cytology dataset.

The model is retrained at every server start-up instead of shipping a pickled artefact: the
dataset is bundled with scikit-learn, training takes milliseconds and this sidesteps pickle
compatibility across scikit-learn versions.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import joblib
import numpy as np
from numpy.typing import NDArray
from sklearn.datasets import load_breast_cancer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

MODEL_FILENAME: Final = "model.joblib"
RANDOM_STATE: Final = 0
FEATURE_COUNT: Final = 30


@dataclass(frozen=True)
class FnaDataset:
    """The Wisconsin diagnostic breast cancer data with the class encoding Pathflow uses.

    ``malignant`` is 1 for malignant and 0 for benign: scikit-learn's own ``target`` encodes
    malignant as 0, which would make ``predict_proba[:, 1]`` the benign probability.
    """

    features: NDArray[np.float64]
    malignant: NDArray[np.int64]
    feature_names: tuple[str, ...]


@functools.cache
def load_dataset() -> FnaDataset:
    """Load the bundled dataset (no network access) with class 1 = malignant."""
    bunch = load_breast_cancer()
    features = np.asarray(bunch.data, dtype=np.float64)
    malignant = (1 - np.asarray(bunch.target, dtype=np.int64)).astype(np.int64)
    names = tuple(str(name) for name in bunch.feature_names)
    if features.shape[1] != FEATURE_COUNT or len(names) != FEATURE_COUNT:
        raise RuntimeError(f"unexpected breast cancer dataset layout {features.shape}")
    return FnaDataset(features=features, malignant=malignant, feature_names=names)


def train_pipeline() -> Pipeline:
    """Fit StandardScaler + LogisticRegression on the full dataset, deterministically."""
    dataset = load_dataset()
    pipeline = Pipeline(
        [
            ("scale", StandardScaler()),
            ("classify", LogisticRegression(max_iter=1000, random_state=RANDOM_STATE)),
        ]
    )
    pipeline.fit(dataset.features, dataset.malignant)
    return pipeline


def save_model(model_dir: Path) -> Path:
    """Train the pipeline and write it to ``model_dir/model.joblib``; return that path."""
    model_dir.mkdir(parents=True, exist_ok=True)
    path = model_dir / MODEL_FILENAME
    joblib.dump(train_pipeline(), path)
    return path
