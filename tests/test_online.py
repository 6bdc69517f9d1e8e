"""cnnviz.online: one reachability check and one Keras cache root for models and datasets."""

from __future__ import annotations

import pytest

from cnnviz import data, models, online
from cnnviz.models import imagenet


@pytest.fixture
def probes(tmp_path, monkeypatch):
    """An empty Keras cache and a fake network: returns the list of hosts probed."""
    calls = []
    state = {"up": True}

    def connect(host, port, timeout):
        calls.append(host)
        if not state["up"]:
            raise ConnectionRefusedError("offline in tests")

    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    monkeypatch.setattr(online, "_connect", connect)
    online._cache.clear()
    yield calls, state
    online._cache.clear()


def _status():
    """(MobileNetV2 usable, MNIST status) as the home page shows them."""
    mobilenet = {i.name: i for i in models.available_models()}["mobilenet_v2"]
    mnist = {r["dataset"]: r for r in data.dataset_status()}["MNIST handwritten digits"]
    return mobilenet.usable, mnist["status"]


def test_models_and_datasets_share_one_probe_per_host(probes, monkeypatch):
    calls, state = probes
    assert _status() == (True, "downloadable")
    assert calls.count(online.DEFAULT_HOST) == 1  # the dataset status reused the model's probe
    state["up"] = False  # the network goes away: within the TTL both keep the same answer
    assert _status() == (True, "downloadable")
    assert calls.count(online.DEFAULT_HOST) == 1
    monkeypatch.setattr(online, "TTL", 0.0)  # the answer expires: both see the new one
    assert _status() == (False, "unavailable offline")


def test_reachable_probes_each_host_once_and_reports_each(probes):
    calls, _ = probes
    answer = online.reachable(["a.example", "b.example", "a.example"])
    assert answer == {"a.example": True, "b.example": True}
    assert sorted(calls) == ["a.example", "b.example"]
    assert online.is_online("a.example") and len(calls) == 2


def test_one_keras_home_for_models_and_datasets(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "cache"))
    assert online.keras_home() == tmp_path / "cache"
    assert imagenet.models_dir() == tmp_path / "cache" / "models"
    assert data.cache_dir("mnist") == tmp_path / "cache" / "datasets"
    monkeypatch.delenv("KERAS_HOME")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert online.keras_home() == tmp_path / ".keras"
