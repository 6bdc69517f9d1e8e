"""A bounded cache of things built for one model (sub-models, compiled functions).

Building a sub-model or tracing a ``tf.function`` costs far more than using it,
so the probing code keeps what it built, per model object. :class:`ModelCache`
is the one cache they all use:

* keys are held *weakly* per model: when a model is garbage-collected, its
  entries go with it (the cache never keeps a model alive; what it stores must
  not refer to the model object either: sub-models share its layers, not it);
* each model keeps at most ``max_per_model`` entries, least recently used first out;
* it is safe to use from several threads (Streamlit runs sessions in threads);
  the lock is re-entrant, so a builder may use the same cache (a sub-model of a
  nested base is built while the outer one is).

    >>> sub_models = ModelCache(max_per_model=16)
    >>> sub = sub_models.get(model, ("conv1", "conv2"), lambda: build(model))
"""

from __future__ import annotations

import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any


class ModelCache:
    """Per-model LRU caches under weak model keys; see the module docstring."""

    def __init__(self, max_per_model: int):
        if max_per_model < 1:
            raise ValueError("max_per_model must be at least 1")
        self.max_per_model = int(max_per_model)
        self._entries: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
        self._lock = threading.RLock()

    def get(self, model, key: Hashable, build: Callable[[], Any]) -> Any:
        """The entry ``key`` of ``model``; ``build()`` makes it on a miss."""
        with self._lock:
            entries = self._entries.get(model)
            if entries is None:
                entries = self._entries[model] = OrderedDict()
            if key in entries:
                entries.move_to_end(key)
                return entries[key]
            value = build()
            entries[key] = value
            while len(entries) > self.max_per_model:
                entries.popitem(last=False)
            return value

    def keys(self, model) -> list:
        """The keys cached for ``model``, least recently used first."""
        with self._lock:
            return list(self._entries.get(model, ()))

    def forget(self, model) -> None:
        """Drop every entry of ``model`` now (e.g. a temporary clone)."""
        with self._lock:
            self._entries.pop(model, None)
