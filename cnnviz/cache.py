"""Bounded caches: the one least-recently-used store of cnnviz, and its per-model form.

Building a sub-model, tracing a ``tf.function`` or loading an uploaded model
costs far more than using it, so cnnviz keeps what it built, within a bound.

* :class:`LRU` is a plain bounded mapping keyed by a value (e.g. an uploaded
  model's name): at most ``max_entries`` entries, least recently used out first.
* :class:`ModelCache` keeps one :class:`LRU` per model object, for the things
  built from that model (sub-models, compiled probes). Models are held
  *weakly*: when a model is garbage-collected, its entries go with it (the cache
  never keeps a model alive; what it stores must not refer to the model object
  either: sub-models share its layers, not it).

Both are safe to use from several threads (Streamlit runs sessions in threads)
and build a missing entry once; the lock is re-entrant, so a builder may use the
same cache (a sub-model of a nested base is built while the outer one is).

    >>> sub_models = ModelCache(max_per_model=16)
    >>> sub = sub_models.get(model, ("conv1", "conv2"), lambda: build(model))
    >>> uploads = LRU(max_entries=4)
    >>> model = uploads.get("user:1f2e:mine.keras", lambda: load(data))
"""

from __future__ import annotations

import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any


class LRU:
    """A bounded mapping: at most ``max_entries`` values, least recently used out first."""

    def __init__(self, max_entries: int):
        if max_entries < 1:
            raise ValueError("max_entries must be at least 1")
        self.max_entries = int(max_entries)
        self._entries: OrderedDict = OrderedDict()
        self._lock = threading.RLock()

    def get(self, key: Hashable, build: Callable[[], Any] | None = None) -> Any:
        """The value of ``key``, now the most recently used. On a miss ``build()`` makes
        it (and the oldest entries beyond the bound are dropped); without ``build`` a
        miss raises ``KeyError``."""
        with self._lock:
            if key in self._entries:
                self._entries.move_to_end(key)
                return self._entries[key]
            if build is None:
                raise KeyError(key)
            value = build()
            self._entries[key] = value
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)
            return value

    def __contains__(self, key: Hashable) -> bool:
        with self._lock:
            return key in self._entries

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    def keys(self) -> list:
        """The keys, least recently used first."""
        with self._lock:
            return list(self._entries)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


class ModelCache:
    """One :class:`LRU` per model object, under weak model keys; see the module docstring."""

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
                entries = self._entries[model] = LRU(self.max_per_model)
            return entries.get(key, build)

    def keys(self, model) -> list:
        """The keys cached for ``model``, least recently used first."""
        with self._lock:
            entries = self._entries.get(model)
            return [] if entries is None else entries.keys()

    def forget(self, model) -> None:
        """Drop every entry of ``model`` now (e.g. a temporary clone)."""
        with self._lock:
            self._entries.pop(model, None)
