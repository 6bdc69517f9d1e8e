"""The job interface with a fake, fast kind (no Keras): identical settings share one
run, a FIFO queue with visible positions, bounded concurrency, cancel, readable
failures, a bounded store of results; then tiny real trainings through the pool."""

from __future__ import annotations

import dataclasses
import threading
import time
from dataclasses import dataclass

import numpy as np
import pytest

from cnnviz import jobs
from cnnviz.errors import DatasetError
from cnnviz.jobs import EmbeddedPool, Kind, State, UnknownJob, settings_key


@dataclass(frozen=True)
class Fake:
    value: int = 0
    steps: int = 3
    gate: str = ""  # before each step, wait until GATES[gate] is open
    fail: str = ""  # "cnnviz" or "bug": fail after the steps


GATES: dict[str, threading.Event] = {}
STARTED: list[Fake] = []
RUNNING = {"now": 0, "most": 0}
_count = threading.Lock()


def fake_run(settings: Fake, report, should_stop):
    with _count:
        STARTED.append(settings)
        RUNNING["now"] += 1
        RUNNING["most"] = max(RUNNING["most"], RUNNING["now"])
    try:
        done = []
        for step in range(settings.steps):
            while settings.gate and not GATES[settings.gate].wait(0.01):
                if should_stop():
                    break
            if should_stop():
                return {"steps": done, "stopped": True}
            done.append(step)
            report({"fraction": len(done) / settings.steps, "steps": list(done)})
        if settings.fail == "cnnviz":
            raise DatasetError("Class 'a' has 2 images; this experiment needs at least 4.")
        if settings.fail == "bug":
            raise ValueError("an internal detail no student should read")
        return {"value": settings.value, "steps": done}
    finally:
        with _count:
            RUNNING["now"] -= 1


def fake_cost(settings: Fake):
    return "fake", float(settings.steps)


FAKE = {"fake": Kind(fake_run, fake_cost)}


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


@pytest.fixture(autouse=True)
def _fresh():
    GATES.clear()
    STARTED.clear()
    RUNNING.update(now=0, most=0)
    yield
    for gate in GATES.values():
        gate.set()


@pytest.fixture
def pool():
    pool = EmbeddedPool(1, kinds=FAKE)
    yield pool
    pool.close()


def gate(name: str) -> threading.Event:
    return GATES.setdefault(name, threading.Event())


def wait_for(pool, job_id, *states, timeout=30.0):
    deadline = time.monotonic() + timeout
    while True:
        status = pool.status(job_id)
        if status.state in states:
            return status
        assert time.monotonic() < deadline, f"job stuck in {status.state}"
        time.sleep(0.01)


def test_identical_settings_are_one_run(pool):
    gate("a")
    first = pool.submit("fake", Fake(1, gate="a"))
    second = pool.submit("fake", Fake(1, gate="a"))
    other = pool.submit("fake", Fake(2))
    assert first == second != other
    gate("a").set()
    done = wait_for(pool, first, State.DONE)
    assert done.result == {"value": 1, "steps": [0, 1, 2]} and done.requests == 2
    wait_for(pool, other, State.DONE)
    again = pool.submit("fake", Fake(1, gate="a"))  # finished: its result, no new run
    assert again == first and pool.status(again).state is State.DONE
    assert STARTED == [Fake(1, gate="a"), Fake(2)]


def test_queue_is_first_come_first_served_with_visible_positions(pool):
    gate("a")
    running = pool.submit("fake", Fake(1, gate="a"))
    wait_for(pool, running, State.RUNNING)
    second, third = pool.submit("fake", Fake(2)), pool.submit("fake", Fake(3))
    assert pool.status(running).position == 0
    assert (pool.status(second).position, pool.status(second).ahead) == (1, 1)
    assert (pool.status(third).position, pool.status(third).ahead) == (2, 2)
    assert pool.status(third).state is State.QUEUED
    gate("a").set()
    wait_for(pool, third, State.DONE)
    assert [s.value for s in STARTED] == [1, 2, 3]


def test_no_more_runs_at_once_than_workers():
    pool = EmbeddedPool(2, kinds=FAKE)
    try:
        gate("a")
        ids = [pool.submit("fake", Fake(i, gate="a")) for i in range(5)]
        for job_id in ids[:2]:
            wait_for(pool, job_id, State.RUNNING)
        time.sleep(0.1)  # a third worker, if there were one, would start now
        assert [pool.status(i).state for i in ids] == [State.RUNNING] * 2 + [State.QUEUED] * 3
        assert pool.status(ids[2]).ahead == 2  # both running runs go first
        gate("a").set()
        for job_id in ids:
            wait_for(pool, job_id, State.DONE)
        assert RUNNING["most"] == 2
    finally:
        pool.close()


def test_cancel_a_queued_and_a_running_job(pool):
    gate("a")
    running = pool.submit("fake", Fake(1, gate="a"))
    queued = pool.submit("fake", Fake(2))
    wait_for(pool, running, State.RUNNING)
    assert pool.cancel(queued).state is State.CANCELLED
    pool.cancel(running)
    stopped = wait_for(pool, running, State.CANCELLED)
    assert stopped.result == {"steps": [], "stopped": True}  # the part that finished
    assert [s.value for s in STARTED] == [1]  # the queued one never started
    # a cancelled run is not reused: the same settings start a new run
    gate("a").set()
    again = pool.submit("fake", Fake(1, gate="a"))
    assert again != running and wait_for(pool, again, State.DONE).result["value"] == 1


def test_a_shared_run_stops_only_when_nobody_waits_for_it(pool):
    gate("a")
    job = pool.submit("fake", Fake(1, gate="a"))
    assert pool.submit("fake", Fake(1, gate="a")) == job
    wait_for(pool, job, State.RUNNING)
    assert pool.cancel(job).state is State.RUNNING  # the other student still waits
    time.sleep(0.05)
    assert pool.status(job).state is State.RUNNING
    pool.cancel(job)
    assert wait_for(pool, job, State.CANCELLED).state is State.CANCELLED


def test_failures_read_as_sentences_and_the_worker_goes_on(pool, caplog):
    ours = pool.submit("fake", Fake(1, fail="cnnviz"))
    bug = pool.submit("fake", Fake(2, fail="bug"))
    after = pool.submit("fake", Fake(3))
    assert "needs at least 4" in wait_for(pool, ours, State.FAILED).error
    failed = wait_for(pool, bug, State.FAILED)
    assert "ValueError" in failed.error and "internal detail" not in failed.error
    assert "internal detail" in caplog.text  # logged for the instructor, with its traceback
    assert wait_for(pool, after, State.DONE).result["value"] == 3
    retry = pool.submit("fake", Fake(1, fail="cnnviz"))  # a failed run is tried again
    assert retry != ours


def test_progress_is_visible_while_the_job_runs(pool):
    gate("a")
    job = pool.submit("fake", Fake(1, steps=3, gate="a"))
    wait_for(pool, job, State.RUNNING)
    assert pool.status(job).progress == {}
    gate("a").set()
    done = wait_for(pool, job, State.DONE)
    assert done.progress == {"fraction": 1.0, "steps": [0, 1, 2]} and done.elapsed > 0


def test_finished_results_are_bounded_in_number_and_time():
    clock = Clock()
    pool = EmbeddedPool(1, kinds=FAKE, max_results=2, ttl=100, clock=clock)
    try:
        ids = []
        for value in range(3):
            ids.append(pool.submit("fake", Fake(value)))
            wait_for(pool, ids[-1], State.DONE)
        with pytest.raises(UnknownJob, match="run it again"):
            pool.status(ids[0])  # the oldest of three went
        assert pool.status(ids[2]).result["value"] == 2
        clock.now = 101
        with pytest.raises(UnknownJob):
            pool.status(ids[2])  # older than the TTL
        again = pool.submit("fake", Fake(2))  # expired: trained anew
        assert wait_for(pool, again, State.DONE).result["value"] == 2
        assert [s.value for s in STARTED] == [0, 1, 2, 2]
    finally:
        pool.close()


def test_estimates_learn_from_finished_runs(pool):
    assert pool.estimate("fake", Fake()) is None  # never measured: no promise
    wait_for(pool, pool.submit("fake", Fake(1)), State.DONE)
    assert pool.estimate("fake", Fake()) is not None
    with pytest.raises(Exception, match="Unknown kind of job"):
        pool.submit("no such kind", Fake())


def test_settings_key_is_a_digest_of_every_value():
    a = {"spec": [["flip", {"mode": "h", "p": 0.5}]], "x": np.arange(4)}
    b = {"x": np.arange(4), "spec": [["flip", {"p": 0.5, "mode": "h"}]]}
    assert settings_key("k", a) == settings_key("k", b)
    assert settings_key("k", a) != settings_key("other", a)
    assert settings_key("k", a) != settings_key("k", {**a, "x": np.arange(1, 5)})
    assert settings_key("k", Fake(1)) != settings_key("k", Fake(1, steps=4))
    with pytest.raises(TypeError, match="plain data"):
        settings_key("k", Fake(threading.Event()))


def test_every_kind_takes_plain_picklable_settings():
    """What a queue in another process needs: settings that pickle, a key that does not
    depend on the process, and the functions found by their import paths."""
    import pickle

    from cnnviz import residual
    from cnnviz.data import LabeledImages
    from cnnviz.jobs.kinds import KINDS, resolve
    from cnnviz.training import augmentation, pair, transfer

    own = LabeledImages(np.zeros((4, 8, 8, 3), np.float32), np.array([0, 0, 1, 1]),
                        ("a", "b"))
    examples = {"augmentation": augmentation.AugmentSettings(dataset="zip", data=own),
                "transfer": transfer.TransferSettings(target="camera", data=own),
                "pooled_vs_plain": pair.PairSettings(), "residual": residual.Settings()}
    assert set(examples) == set(KINDS)
    for kind, settings in examples.items():
        again = pickle.loads(pickle.dumps(settings))
        assert settings_key(kind, again) == settings_key(kind, settings)
        assert callable(resolve(KINDS[kind].run)) and callable(resolve(KINDS[kind].cost))


def test_module_interface_uses_the_process_backend():
    previous = jobs.set_backend(EmbeddedPool(1, kinds=FAKE))
    try:
        job = jobs.submit("fake", Fake(7))
        assert wait_for(jobs.backend(), job, State.DONE).result["value"] == 7
        assert jobs.status(job).state is State.DONE
        assert jobs.cancel(job).state is State.DONE  # too late to cancel: nothing changes
    finally:
        jobs.backend().close()
        jobs.set_backend(previous)


# ------------------------------------------------------------------ real training jobs


@pytest.mark.slow
def test_tiny_augmentation_job_reports_epochs_and_is_reproducible_alongside_another():
    from cnnviz.training.augmentation import AugmentSettings

    tiny = AugmentSettings(n_train=3, n_val=4, size=32, epochs=2, batch_size=8, seeds=1)
    pool = EmbeddedPool(2)
    try:
        together = [pool.submit("augmentation", tiny),
                    pool.submit("augmentation", dataclasses.replace(tiny, seed=1))]
        first = wait_for(pool, together[0], State.DONE, timeout=300)
        wait_for(pool, together[1], State.DONE, timeout=300)
    finally:
        pool.close()
    assert first.result.complete
    import pickle

    assert pickle.loads(pickle.dumps(first.result)).runs.keys() == first.result.runs.keys()
    runs = first.progress["runs"]
    assert list(runs) == ["without augmentation", "with augmentation"]
    assert [len(r["history"]["loss"]) for r in runs.values()] == [2, 2]
    assert first.progress["fraction"] == 1.0
    alone_pool = EmbeddedPool(1)
    try:
        alone = wait_for(alone_pool, alone_pool.submit("augmentation", tiny), State.DONE,
                         timeout=300)
    finally:
        alone_pool.close()
    for label, run in first.result.runs.items():  # the same curves, with or without company
        assert alone.result.runs[label].history == run.history


def test_importing_jobs_and_training_pulls_in_no_heavy_library():
    import subprocess
    import sys

    code = ("import sys, cnnviz.jobs, cnnviz.training.augmentation, cnnviz.training.transfer, "
            "cnnviz.training.pair, cnnviz.residual; "
            "print([m for m in ('tensorflow', 'keras', 'streamlit') if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120, check=True)
    assert out.stdout.strip() == "[]"
