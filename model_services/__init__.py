"""Reference AI model services for Pathflow, served by MLServer (Open Inference Protocol v2).

Importing this package is cheap: scikit-learn, scikit-image and MLServer are only imported by
the submodules that need them, so orchestrator code can use the names and demo helpers below
without pulling in the model stack.
"""

from __future__ import annotations

from typing import Final

BREAST_FNA: Final = "breast-fna"
IHC_DAB: Final = "ihc-dab"
MODEL_NAMES: Final = (BREAST_FNA, IHC_DAB)
MODEL_VERSION: Final = "1"

__all__ = [
    "BREAST_FNA",
    "IHC_DAB",
    "MODEL_NAMES",
    "MODEL_VERSION",
    "feature_names",
    "sample_count",
    "sample_features",
    "sample_is_malignant",
]


def feature_names() -> list[str]:
    """Return the 30 FNA feature names in the column order ``breast-fna`` expects."""
    from model_services.breast_fna import load_dataset

    return list(load_dataset().feature_names)


def sample_count() -> int:
    """Return how many cases the bundled breast cancer dataset holds (569)."""
    from model_services.breast_fna import load_dataset

    return len(load_dataset().features)


def sample_features(index: int) -> list[float]:
    """Return the feature vector of dataset case ``index`` as plain floats.

    Raises ``IndexError`` for an index outside ``0 <= index < sample_count()``; negative
    indices are rejected rather than wrapped so a caller's off-by-one is not silently hidden.
    """
    from model_services.breast_fna import load_dataset

    dataset = load_dataset()
    _check_index(index, len(dataset.features))
    return [float(value) for value in dataset.features[index]]


def sample_is_malignant(index: int) -> bool:
    """Return the ground truth for dataset case ``index`` (``True`` = malignant)."""
    from model_services.breast_fna import load_dataset

    dataset = load_dataset()
    _check_index(index, len(dataset.features))
    return bool(dataset.malignant[index] == 1)


def _check_index(index: int, count: int) -> None:
    if not 0 <= index < count:
        raise IndexError(f"sample index {index} out of range 0..{count - 1}")
