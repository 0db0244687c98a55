"""The compiled kernels: each in a ``*_kernel.py`` module, and the vectorised exp as exact as it says."""
from pathlib import Path

import numpy as np

from edbench.maths.exp_kernel import exp_array

PACKAGE = Path(__file__).resolve().parents[1] / "scripts" / "edbench"


def test_every_compiled_kernel_lives_in_a_kernel_module():
    """Test copies of the repository share the compiled-kernel caches of these modules' folders
    (conftest.KERNEL_CACHES), so a kernel elsewhere would compile once per copy."""
    from conftest import KERNEL_CACHES

    outside = [str(path.relative_to(PACKAGE)) for path in PACKAGE.rglob("*.py")
               if not path.stem.endswith("_kernel")
               and any(mark in path.read_text() for mark in ("njit", "numba.jit", "vectorize("))]
    assert outside == []
    folders = {str(path.parent.relative_to(PACKAGE.parents[1])) for path in PACKAGE.rglob("*_kernel.py")}
    assert folders == {cache.removesuffix("/__pycache__") for cache in KERNEL_CACHES}


def test_vectorised_exp_agrees_with_numpy_to_two_units_in_the_last_place():
    x = np.concatenate([np.linspace(-700, 700, 100_001), np.random.default_rng(0).normal(0, 3, 10_000)])
    out = exp_array(x)
    expected = np.exp(x)
    assert out.dtype == np.float64
    assert np.all(np.abs(out - expected) <= 2 * np.spacing(expected))


def test_single_precision_exp_is_float32_throughout_and_within_four_units():
    x = np.concatenate([np.linspace(-87, 87, 100_001), np.random.default_rng(0).normal(0, 3, 10_000)])
    x = x.astype(np.float32)
    out = exp_array(x)
    expected = np.exp(x.astype(np.float64)).astype(np.float32)
    assert out.dtype == np.float32
    assert np.all(np.abs(out - expected) <= 4 * np.spacing(expected))
