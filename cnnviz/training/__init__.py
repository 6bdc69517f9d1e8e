"""Training experiments the student runs live, each one a job (:mod:`cnnviz.jobs`).

Where to look:

- ``data``: ``Split`` (a small training set and a held-out validation set),
  ``load_split`` for a named dataset (``DATASETS``), ``user_split`` for the
  student's own images;
- ``loop``: compile, ``fit`` on seeded batches with stop and progress, ``evaluate``,
  ``Progress`` (what a job reports), ``Run`` (one run's history);
- ``augmentation``: the same small CNN trained without and with an augmentation
  pipeline (``AugmentSettings``, ``run``);
- ``transfer``: a new head on a pretrained base, freezing, the three phases, and the
  from-scratch baseline (``TransferSettings``, ``run``, ``rebuild_model``);
- ``pair``: the pooled and the plain CNN of the shift probe, trained alike
  (``PairSettings``, ``run``, ``rebuild_pair``).

The figures of these runs are in :mod:`cnnviz.figures.training`. Importing this
package, or any of its modules, imports no TensorFlow or Keras.
"""
