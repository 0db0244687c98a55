"""scikit-learn's 8x8 Digits (``sklearn.datasets.load_digits``): the CSV file scikit-learn ships, read
into arrays, and its 1,797 images split into 1,437 training and 360 test images by a stated, seeded,
stratified split. The race holds out its validation split from the end of the training images, as
for MNIST."""
from __future__ import annotations

import gzip
import importlib.metadata
import io
import zlib
from pathlib import Path

import numpy as np

FILE = "digits.csv"
IMAGE_PIXELS = 64
PIXEL_RANGE = (0, 16)
SPLIT = {"how": "sklearn.model_selection.train_test_split, stratified by label", "test_size": 360,
         "random_state": 0}


class DigitsFormatError(ValueError):
    """A Digits file that is not 65 whole numbers a row: 64 pixels in PIXEL_RANGE, then a label 0-9."""


def read(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """The images (one row of 64 pixels each) and labels of the Digits CSV at ``path`` (gzipped or not)."""
    raw = Path(path).read_bytes()
    try:
        text = gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw
        table = np.loadtxt(io.BytesIO(text), delimiter=",", ndmin=2)
    except (OSError, EOFError, zlib.error, ValueError) as error:
        raise DigitsFormatError(f"{path}: cannot be read as the Digits CSV ({error})") from None
    if table.shape[1] != IMAGE_PIXELS + 1 or not np.array_equal(table, np.round(table)):
        raise DigitsFormatError(f"{path}: {table.shape[1]} columns of numbers; expected {IMAGE_PIXELS + 1} whole "
                                f"numbers a row")
    images, labels = table[:, :IMAGE_PIXELS], table[:, IMAGE_PIXELS]
    low, high = PIXEL_RANGE
    if images.min() < low or images.max() > high or labels.min() < 0 or labels.max() > 9:
        raise DigitsFormatError(f"{path}: pixels outside {low}-{high} or labels outside 0-9")
    return images.astype(np.uint8), labels.astype(np.uint8)


def split(images: np.ndarray, labels: np.ndarray) -> dict[str, np.ndarray]:
    """The training and test arrays of the stated split (``SPLIT``)."""
    from sklearn.model_selection import train_test_split

    x_train, x_test, y_train, y_test = train_test_split(images, labels, test_size=SPLIT["test_size"],
                                                        random_state=SPLIT["random_state"], stratify=labels)
    return {"x_train": x_train, "y_train": y_train, "x_test": x_test, "y_test": y_test}


def arrays_from_files(paths: dict[str, Path]) -> tuple[dict[str, np.ndarray], dict]:
    """The arrays of the Digits file among ``paths`` (by file name), and the record of the split."""
    arrays = split(*read(paths[FILE]))
    record = {"scikit_learn_version": importlib.metadata.version("scikit-learn"),
              "split": {**SPLIT, "train_count": len(arrays["y_train"]), "test_count": len(arrays["y_test"])}}
    return arrays, record
