"""A student's own dataset: a zip of class folders, read in memory and never extracted.

``load_image_zip`` is as defensive as ``cnnviz.images.load_image``: unsafe paths,
zip bombs (declared sizes, compression ratio, and bytes counted while reading)
and oversized archives are refused with a ``DatasetError`` that names the limit;
files that are not images are skipped and listed in the report.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from cnnviz.data.offline import LabeledImages
from cnnviz.errors import DatasetError, ImageError
from cnnviz.images import load_image, resize
from cnnviz.uploads import read_bytes

MAX_ZIP_FILES = 2000
MAX_ZIP_TOTAL_BYTES = 200 * 2**20
MAX_ZIP_MEMBER_BYTES = 20 * 2**20
MAX_ZIP_RATIO = 100  # uncompressed / compressed, for members over 1 MB
_JUNK_PREFIXES = ("__MACOSX/",)
_JUNK_NAMES = (".DS_Store", "Thumbs.db", "desktop.ini")


@dataclass(frozen=True)
class ZipReport:
    """What ``load_image_zip`` found: images per class and the files it skipped."""

    class_counts: dict[str, int]
    skipped: tuple[tuple[str, str], ...]  # (member name, reason)
    top_folder: str | None  # the single top folder that was stripped, if any


class ZipImages(NamedTuple):
    """What ``load_image_zip`` returns: unpack it as ``data, report = ...``.

    For convenience it also passes ``images``, ``labels``, ``class_names`` and
    ``counts()`` through to ``data``, so it can be handed to code that expects
    a ``LabeledImages``.
    """

    data: LabeledImages
    report: ZipReport

    @property
    def images(self) -> np.ndarray:
        return self.data.images

    @property
    def labels(self) -> np.ndarray:
        return self.data.labels

    @property
    def class_names(self) -> tuple[str, ...]:
        return self.data.class_names

    @property
    def test_mask(self) -> None:
        return None

    def counts(self) -> dict[str, int]:
        return self.data.counts()


def _unsafe_name(name: str) -> bool:
    """Absolute paths, drive letters and '..' anywhere (either slash) are refused."""
    if name.startswith(("/", "\\")) or (len(name) > 1 and name[1] == ":"):
        return True
    parts = name.replace("\\", "/").split("/")
    return any(part == ".." for part in parts)


def _read_member(zf, info, remaining: int, max_member_bytes: int) -> bytes:
    """Read one member in memory, counting bytes: declared sizes can lie."""
    limit = min(max_member_bytes, remaining)
    chunks, total = [], 0
    with zf.open(info) as f:
        while True:
            chunk = f.read(min(1 << 16, limit + 1 - total))
            if not chunk:
                break
            total += len(chunk)
            if total > limit:
                which = "this file" if limit == max_member_bytes else "the whole zip"
                raise DatasetError(
                    f"{info.filename!r} unpacks to more than {limit / 2**20:.0f} MB "
                    f"(the limit for {which}); refusing what looks like a zip bomb.")
            chunks.append(chunk)
    return b"".join(chunks)


def load_image_zip(src, *, size: int = 64, max_files: int = MAX_ZIP_FILES,
                   max_total_bytes: int = MAX_ZIP_TOTAL_BYTES,
                   max_member_bytes: int = MAX_ZIP_MEMBER_BYTES,
                   max_ratio: float = MAX_ZIP_RATIO) -> ZipImages:
    """A student's dataset from a zip of class folders, read in memory (never extracted).

    Layout ``cat/001.jpg, dog/002.png, ...`` or the same inside one top folder
    (``pets/cat/001.jpg``). The folder name is the class. Refused with
    ``DatasetError``: not a zip, unsafe member paths (``..``, absolute),
    zip bombs (declared sizes, compression ratio, and bytes counted while
    reading), too many files, fewer than two classes with images. Files that
    are not images, or are damaged, are skipped and listed in the report.
    """
    import zipfile

    data = read_bytes(src, max_total_bytes, noun="zip file", error=DatasetError)
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        infos = zf.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError) as error:
        raise DatasetError(f"This is not a readable zip file ({error}).") from error
    with zf:
        for info in infos:
            if _unsafe_name(info.filename):
                raise DatasetError(
                    f"The zip contains an unsafe path {info.filename!r} (absolute, or with "
                    "'..'); refusing the whole file. Zip your class folders directly.")
        files = [i for i in infos if not i.is_dir()]
        if len(files) > max_files:
            raise DatasetError(f"The zip holds {len(files)} files; the limit is {max_files}.")
        declared = sum(i.file_size for i in files)
        if declared > max_total_bytes:
            raise DatasetError(
                f"The zip unpacks to {declared / 2**20:.0f} MB; the limit is "
                f"{max_total_bytes / 2**20:.0f} MB.")
        for info in files:
            if info.file_size > max_member_bytes:
                raise DatasetError(
                    f"{info.filename!r} unpacks to {info.file_size / 2**20:.0f} MB; the "
                    f"limit per file is {max_member_bytes / 2**20:.0f} MB.")
            if info.file_size > 2**20 and info.file_size > max_ratio * max(info.compress_size, 1):
                ratio = info.file_size // max(info.compress_size, 1)
                raise DatasetError(
                    f"{info.filename!r} is compressed {ratio} times: that is a zip bomb, "
                    "not a photo. Refusing the file.")

        skipped: list[tuple[str, str]] = []
        candidates = []
        for info in files:
            name = info.filename.replace("\\", "/")
            base = name.rsplit("/", 1)[-1]
            if name.startswith(_JUNK_PREFIXES) or base in _JUNK_NAMES or base.startswith("._"):
                skipped.append((info.filename, "system file"))
                continue
            candidates.append((info, [p for p in name.split("/") if p]))
        tops = {parts[0] for _, parts in candidates}
        top = None
        if len(tops) == 1 and any(len(parts) >= 3 for _, parts in candidates):
            top = next(iter(tops))
            candidates = [(info, parts[1:]) for info, parts in candidates]

        per_class: dict[str, list[np.ndarray]] = {}
        remaining = max_total_bytes
        for info, parts in candidates:
            if len(parts) < 2:
                skipped.append((info.filename, "not inside a class folder"))
                continue
            if info.flag_bits & 0x1:
                skipped.append((info.filename, "encrypted"))
                continue
            try:
                raw = _read_member(zf, info, remaining, max_member_bytes)
            except (zipfile.BadZipFile, OSError, EOFError, RuntimeError, ValueError,
                    NotImplementedError) as error:
                skipped.append((info.filename, f"damaged in the zip ({str(error)[:80]})"))
                continue
            remaining -= len(raw)
            try:
                image = load_image(raw)
            except ImageError as error:
                skipped.append((info.filename, str(error)))
                continue
            per_class.setdefault(parts[0], []).append(
                resize(image, size).astype(np.float32) / 255.0)

    class_names = tuple(sorted(per_class))
    if not class_names:
        raise DatasetError(
            "The zip holds no readable images in class folders. Expected e.g. "
            "cats/001.jpg, dogs/002.jpg.")
    if len(class_names) < 2:
        raise DatasetError(
            f"The zip holds images of only one class ({class_names[0]!r}); a classifier needs "
            "at least two class folders.")
    images = np.stack([img for c in class_names for img in per_class[c]])
    labels = np.concatenate([np.full(len(per_class[c]), i, dtype=np.int64)
                             for i, c in enumerate(class_names)])
    report = ZipReport({c: len(per_class[c]) for c in class_names}, tuple(skipped), top)
    return ZipImages(
        LabeledImages(images, labels, class_names, description="your zip of class folders"),
        report)
