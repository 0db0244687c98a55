"""IDX reading: round trips, and clear errors for wrong magic numbers, shapes and truncation."""
import gzip

import numpy as np
import pytest

from edbench.data.idx import IdxFormatError, encode_idx, read_idx, write_idx_gz


def test_round_trip_gzipped_and_plain(tmp_path):
    images = np.arange(2 * 28 * 28, dtype=np.uint8).reshape(2, 28, 28)
    write_idx_gz(tmp_path / "a.gz", images)
    (tmp_path / "a.idx").write_bytes(encode_idx(images))
    np.testing.assert_array_equal(read_idx(tmp_path / "a.gz", ndim=3, item_shape=(28, 28)), images)
    np.testing.assert_array_equal(read_idx(tmp_path / "a.idx"), images)


def test_wrong_magic_number(tmp_path):
    data = bytearray(encode_idx(np.zeros(3, dtype=np.uint8)))
    data[2] = 0x0D  # float32 type code: not what MNIST uses
    (tmp_path / "bad").write_bytes(bytes(data))
    with pytest.raises(IdxFormatError, match="bad IDX magic number"):
        read_idx(tmp_path / "bad")


def test_wrong_item_shape(tmp_path):
    write_idx_gz(tmp_path / "x.gz", np.zeros((2, 27, 28), dtype=np.uint8))
    with pytest.raises(IdxFormatError, match=r"expected \(28, 28\)"):
        read_idx(tmp_path / "x.gz", ndim=3, item_shape=(28, 28))


def test_wrong_number_of_dimensions(tmp_path):
    write_idx_gz(tmp_path / "x.gz", np.zeros((2, 28, 28), dtype=np.uint8))
    with pytest.raises(IdxFormatError, match="3 dimensions, expected 1"):
        read_idx(tmp_path / "x.gz", ndim=1)


def test_truncated_payload(tmp_path):
    data = encode_idx(np.zeros((4, 28, 28), dtype=np.uint8))
    (tmp_path / "t.gz").write_bytes(gzip.compress(data[:-10]))
    with pytest.raises(IdxFormatError, match="payload has"):
        read_idx(tmp_path / "t.gz")


def test_truncated_gzip_stream(tmp_path):
    blob = gzip.compress(encode_idx(np.zeros((4, 28, 28), dtype=np.uint8)))
    (tmp_path / "t.gz").write_bytes(blob[: len(blob) // 2])
    with pytest.raises(IdxFormatError, match="cannot be read"):
        read_idx(tmp_path / "t.gz")
