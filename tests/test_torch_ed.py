"""The PyTorch ED of the speed target computes ed_matrix's rule: same weights to float tolerance."""
import numpy as np
import pytest

from edbench import methods
from edbench.methods.ed import rule as ed
from edbench.speed.peers import TorchED


def data(n_classes, n=40, inputs=12, seed=0):
    rng = np.random.default_rng(seed)
    return rng.random((n, inputs)) * (rng.random((n, inputs)) < 0.4), rng.integers(0, n_classes, n)


@pytest.mark.parametrize("rule", ["faithful", "bidirectional"])
@pytest.mark.parametrize("n_classes,batch,hidden", [(2, 1, [6, 5]), (10, 1, [4]), (2, 8, [6, 5]), (10, 8, [3])])
def test_torch_ed_matches_ed_matrix(rule, n_classes, batch, hidden):
    x, y = data(n_classes)
    params = {"hidden": hidden, "rule": rule, "batch_size": batch, "shuffle": False, "alpha": 0.5}
    reference = methods.get("ed_matrix")(x.shape[1], n_classes, params, 0)
    peer = TorchED(reference.get_weights(), reference.params, dtype="float64", compile=False)
    for _ in range(2):
        reference.train_epoch(x, y)
        peer.train_epoch(x, ed.targets(y, n_classes).T, np.arange(len(y)), batch)
    for ours, theirs in zip(reference.get_weights(), peer.get_weights()):
        np.testing.assert_allclose(theirs, ours, rtol=1e-9, atol=1e-12)
    moved = [not np.array_equal(a, b) for a, b in zip(reference.get_weights(),
                                                          methods.get("ed_matrix")(x.shape[1], n_classes, params,
                                                                                   0).get_weights())]
    assert all(moved)


@pytest.mark.slow
def test_compiled_float32_stays_close():
    x, y = data(10)
    params = {"hidden": [8], "batch_size": 8, "shuffle": False}
    reference = methods.get("ed_matrix")(x.shape[1], 10, params, 0)
    peer = TorchED(reference.get_weights(), reference.params, dtype="float32", compile=True)
    reference.train_epoch(x, y)
    peer.train_epoch(x, ed.targets(y, 10).T, np.arange(len(y)), 8)
    for ours, theirs in zip(reference.get_weights(), peer.get_weights()):
        np.testing.assert_allclose(theirs, ours, rtol=1e-4, atol=1e-5)
