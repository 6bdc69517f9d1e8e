"""cnnviz.uploads: the one bounded reader behind images, zips of class folders and models."""

from __future__ import annotations

import io

import pytest

from cnnviz.errors import CnnvizError, DatasetError, ImageError, ModelError
from cnnviz.uploads import megabytes, read_bytes

PAYLOAD = b"\x89PNG not really" * 100


class CountingFile(io.BytesIO):
    """A file object that remembers the largest read it was asked for."""

    largest_read = 0

    def read(self, size=-1):
        self.largest_read = max(self.largest_read, size if size >= 0 else 1 << 62)
        return super().read(size)


def test_every_kind_of_source_gives_its_bytes(tmp_path):
    path = tmp_path / "thing.bin"
    path.write_bytes(PAYLOAD)
    for src in (PAYLOAD, bytearray(PAYLOAD), memoryview(PAYLOAD), path, str(path),
                io.BytesIO(PAYLOAD)):
        assert read_bytes(src, 10_000) == PAYLOAD, type(src)
    with open(path, "rb") as f:
        assert read_bytes(f, 10_000) == PAYLOAD


def test_never_reads_more_than_the_limit_and_names_it(tmp_path):
    limit = 2**20
    big = b"x" * (limit + 1)
    path = tmp_path / "big.bin"
    path.write_bytes(big)
    for src in (big, path, io.BytesIO(big)):
        with pytest.raises(CnnvizError, match="1 MB"):
            read_bytes(src, limit)
    stream = CountingFile(big * 20)
    with pytest.raises(CnnvizError, match="limit"):
        read_bytes(stream, limit)
    assert stream.largest_read == limit + 1  # the rest of a huge upload is never read
    assert read_bytes(b"x" * limit, limit) == b"x" * limit  # exactly the limit is fine


@pytest.mark.parametrize("error", [ImageError, DatasetError, ModelError])
def test_failures_raise_the_callers_error_type(tmp_path, error):
    (tmp_path / "notes.txt").write_text("hello")
    with open(tmp_path / "notes.txt") as text_mode, pytest.raises(error, match="binary mode"):
        read_bytes(text_mode, 100, error=error)
    with pytest.raises(error, match="empty"):
        read_bytes(b"", 100, error=error)
    with pytest.raises(error, match="There is no model file at"):
        read_bytes(tmp_path / "missing.keras", 100, noun="model file", error=error)
    with pytest.raises(error, match="There is no zip file at"):
        read_bytes(tmp_path, 100, noun="zip file", error=error)  # a folder is not a file
    with pytest.raises(error, match="Cannot read an image from a int"):
        read_bytes(12345, 100, noun="image", error=error)


def test_sizes_in_messages_are_never_rounded_to_zero():
    assert megabytes(50 * 2**20) == "50 MB"
    assert megabytes(3 * 2**19) == "1.5 MB"
    assert megabytes(1000) == "0.000954 MB"
