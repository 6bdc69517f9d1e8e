"""Datasets as plain numpy arrays: what every training and probing page learns from.

Where to look:

- ``shapes``: synthetic shapes with exact object masks (``make_shapes``, the
  shape class lists). The ground truth the probing pages rely on.
- ``offline``: small real datasets that ship with scikit-image (``load_textures``,
  ``load_faces``), the ``LabeledImages`` every loader returns, and ``split``.
- ``downloads``: Keras-cached downloads (``load_keras_dataset``,
  ``load_cats_vs_dogs``), their cache paths, and ``dataset_status`` for the
  home page.
- ``zips``: a student's zip of class folders (``load_image_zip``) and its limits.

Every name is importable from ``cnnviz.data`` itself. Importing this package
imports no TensorFlow or Keras; downloads import Keras when they need it.
"""

from cnnviz.data.downloads import (
    DEFAULT_N_TEST,
    DEFAULT_N_TRAIN,
    DOWNLOADS,
    KERAS_DATASETS,
    Download,
    cache_dir,
    dataset_status,
    is_cached,
    load_cats_vs_dogs,
    load_keras_dataset,
)
from cnnviz.data.offline import (
    DEFAULT_TEXTURE_CLASSES,
    FACE_CLASSES,
    TEXTURE_CLASSES,
    TEXTURE_PARTS,
    TEXTURE_SOURCES,
    LabeledImages,
    load_faces,
    load_textures,
    split,
)
from cnnviz.data.shapes import (
    NEW_SHAPE_CLASSES,
    SHAPE_CLASSES,
    SOURCE_CLASSES,
    Scene,
    Shapes,
    make_scene,
    make_shapes,
)
from cnnviz.data.zips import (
    MAX_ZIP_FILES,
    MAX_ZIP_MEMBER_BYTES,
    MAX_ZIP_RATIO,
    MAX_ZIP_TOTAL_BYTES,
    ZipImages,
    ZipReport,
    load_image_zip,
)

__all__ = [
    "SHAPE_CLASSES", "SOURCE_CLASSES", "NEW_SHAPE_CLASSES", "Shapes", "make_shapes",
    "Scene", "make_scene",
    "LabeledImages", "split", "TEXTURE_SOURCES", "TEXTURE_CLASSES", "DEFAULT_TEXTURE_CLASSES",
    "TEXTURE_PARTS", "load_textures", "FACE_CLASSES", "load_faces",
    "Download", "DOWNLOADS", "KERAS_DATASETS", "DEFAULT_N_TRAIN", "DEFAULT_N_TEST",
    "cache_dir", "is_cached", "load_keras_dataset", "load_cats_vs_dogs", "dataset_status",
    "MAX_ZIP_FILES", "MAX_ZIP_TOTAL_BYTES", "MAX_ZIP_MEMBER_BYTES", "MAX_ZIP_RATIO",
    "ZipReport", "ZipImages", "load_image_zip",
]
