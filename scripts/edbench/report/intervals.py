"""The intervals the tables give around a mean accuracy or time."""
from __future__ import annotations

import math

import numpy as np


def mean_ci95(values) -> tuple[float, float, float]:
    """Mean and the bounds of its 95% t-interval over ``values`` (NaN bounds with one value)."""
    from scipy import stats

    values = np.asarray([v for v in values if v is not None and not (isinstance(v, float) and math.isnan(v))],
                        dtype=float)
    if len(values) == 0:
        return math.nan, math.nan, math.nan
    mean = float(values.mean())
    if len(values) < 2:
        return mean, math.nan, math.nan
    half = float(stats.t.ppf(0.975, len(values) - 1) * values.std(ddof=1) / math.sqrt(len(values)))
    return mean, mean - half, mean + half


def wilson95(accuracy: float, n: int) -> tuple[float, float]:
    """95% Wilson score interval of an accuracy measured on ``n`` test examples."""
    if n is None or math.isnan(accuracy) or not n > 0:
        return math.nan, math.nan
    z = 1.959963984540054
    centre = (accuracy + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(accuracy * (1 - accuracy) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(centre - half, 0.0), min(centre + half, 1.0)
