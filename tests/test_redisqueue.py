"""The shared backend with its real parts, fast: a real redis-server, real worker
processes (``python -m cnnviz.jobs.worker``) and a fake kind that trains nothing
(``fakejobs``). Two ``RedisQueue`` objects on one Redis stand for two app servers.
The same topology with real trainings and browsers is ``test_queue_e2e.py``."""

from __future__ import annotations

import time

import pytest
from fakejobs import KINDS, Slow, started
from queueworkers import start_worker, stop, wait_until_alive, workers
from redisserver import redis_server, require

from cnnviz import jobs
from cnnviz.jobs import QueueUnavailable, State, UnknownJob
from cnnviz.jobs.redisqueue import LOST, NO_WORKER, RedisQueue

pytestmark = pytest.mark.slow  # worker processes


@pytest.fixture(scope="module")
def url():
    require()
    with redis_server() as url:
        yield url


@pytest.fixture(scope="module")
def two_workers(url):
    with workers(url, ["fast-1", "fast-2"], preload=("fakejobs",), heartbeat_ttl=3) as w:
        yield w


@pytest.fixture
def servers(url):
    """Two app servers' backends on the same Redis, and a plain client."""
    import redis

    first, second = RedisQueue(url, kinds=KINDS), RedisQueue(url, kinds=KINDS)
    client = redis.Redis.from_url(url)
    yield first, second, client
    client.close()


def wait_for(queue, job_id, *states, timeout=30.0):
    deadline = time.monotonic() + timeout
    while True:
        status = queue.status(job_id)
        if status.state in states:
            return status
        assert time.monotonic() < deadline, f"job stuck in {status.state}: {status}"
        time.sleep(0.05)


def test_identical_settings_run_once_for_every_app_server(two_workers, servers):
    first, second, client = servers
    job = first.submit("fake", Slow(101, steps=6))
    assert second.submit("fake", Slow(101, steps=6)) == job  # the other server joins it
    other = second.submit("fake", Slow(102))
    done = wait_for(second, job, State.DONE)
    assert done.result["value"] == 101 and done.result["steps"] == list(range(6))
    assert done.requests == 2 and done.progress["fraction"] == 1.0 and done.elapsed > 0
    assert wait_for(first, other, State.DONE).result["value"] == 102
    again = first.submit("fake", Slow(101, steps=6))  # finished: its result, no new run
    assert again == job and first.status(job).state is State.DONE
    assert sorted(v for v in started(client) if v in (101, 102)) == [101, 102]
    assert first.estimate("fake", Slow()) is not None  # learnt from the finished runs


def test_no_worker_says_so_and_the_queue_moves_once_one_starts(url, servers):
    _, _, client = servers
    lonely = RedisQueue(url, kinds=KINDS, queue_name="lonely")  # no worker takes it yet
    ids = [lonely.submit("fake", Slow(value)) for value in (201, 202)]
    queued = [lonely.status(i) for i in ids]
    assert [(s.state, s.position, s.ahead) for s in queued] == [
        (State.QUEUED, 1, 0), (State.QUEUED, 2, 1)]
    assert queued[0].notice == NO_WORKER
    worker = start_worker(url, "lonely-1", queue="lonely", preload=("fakejobs",))
    try:
        for job_id in ids:
            assert wait_for(lonely, job_id, State.DONE).notice == ""
    finally:
        stop(worker)


def test_cancel_a_queued_and_a_running_run(two_workers, servers):
    first, second, client = servers
    running = first.submit("fake", Slow(301, steps=200, seconds=0.05))
    wait_for(first, running, State.RUNNING)
    deadline = time.monotonic() + 10
    while not first.status(running).progress:  # progress arrives while it runs
        assert time.monotonic() < deadline, "no progress from a running job"
        time.sleep(0.05)
    first.cancel(running)
    stopped = wait_for(second, running, State.CANCELLED)
    assert stopped.result["stopped"] and len(stopped.result["steps"]) < 200
    # a stopped run is not reused: the same settings start a new attempt
    again = second.submit("fake", Slow(301, steps=200, seconds=0.05))
    assert again == running and second.status(again).state in (State.QUEUED, State.RUNNING)
    wait_for(second, again, State.RUNNING)
    second.cancel(again)
    wait_for(first, again, State.CANCELLED)
    assert started(client).count(301) == 2


def test_a_shared_run_stops_only_when_nobody_waits_for_it(two_workers, servers):
    first, second, _ = servers
    job = first.submit("fake", Slow(401, steps=200, seconds=0.05))
    assert second.submit("fake", Slow(401, steps=200, seconds=0.05)) == job
    wait_for(first, job, State.RUNNING)
    assert first.cancel(job).state is State.RUNNING  # the other student still waits
    time.sleep(0.5)
    assert second.status(job).state is State.RUNNING and not second.status(job).stopping
    assert second.cancel(job).stopping
    wait_for(first, job, State.CANCELLED)


def test_failures_read_as_sentences(two_workers, servers):
    first, second, _ = servers
    ours = first.submit("fake", Slow(501, fail="cnnviz"))
    bug = first.submit("fake", Slow(502, fail="bug"))
    assert "needs at least 4" in wait_for(second, ours, State.FAILED).error
    failed = wait_for(second, bug, State.FAILED)
    assert "ValueError" in failed.error and "internal detail" not in failed.error


def test_a_killed_worker_reads_as_failed_with_a_retry_that_runs(url, two_workers, servers):
    first, second, client = servers
    doomed = start_worker(url, "doomed", preload=("fakejobs",), heartbeat_ttl=2)
    try:
        wait_until_alive(client, ["doomed"])
        # keep the module's workers busy so that the doomed worker takes the run
        busy = [first.submit("fake", Slow(600 + i, steps=60, seconds=0.05)) for i in (1, 2)]
        for job_id in busy:
            wait_for(first, job_id, State.RUNNING)
        job = first.submit("fake", Slow(610, steps=400, seconds=0.05))
        wait_for(first, job, State.RUNNING)
        doomed.kill()  # SIGKILL: no goodbye
        doomed.wait()
        failed = wait_for(second, job, State.FAILED, timeout=20)
        assert failed.error == LOST and "retry" in failed.error
        retry = second.submit("fake", Slow(610, steps=400, seconds=0.05))
        assert retry == job and wait_for(first, job, State.RUNNING).state is State.RUNNING
        first.cancel(job)
        wait_for(first, job, State.CANCELLED)
    finally:
        stop(doomed)


def test_redis_going_away_is_a_clear_message_and_coming_back_works():
    require()
    from appdriver import free_port

    port = free_port()
    with redis_server(port) as url:
        queue = RedisQueue(url, kinds=KINDS)
        job = queue.submit("fake", Slow(701))
        assert queue.status(job).state is State.QUEUED
    for call in (lambda: queue.submit("fake", Slow(702)), lambda: queue.status(job),
                 lambda: queue.cancel(job)):
        with pytest.raises(QueueUnavailable, match="cannot be reached"):
            call()
    with redis_server(port):  # a fresh, empty Redis on the same address
        with pytest.raises(UnknownJob):
            queue.status(job)
        assert queue.status(queue.submit("fake", Slow(701))).state is State.QUEUED


def test_the_backend_follows_the_configuration(monkeypatch):
    from cnnviz import config

    monkeypatch.delenv(config.REDIS_URL_ENV, raising=False)
    assert isinstance(jobs.open_backend(None), jobs.EmbeddedPool)
    assert isinstance(jobs.open_backend("redis://127.0.0.1:1/0"), RedisQueue)  # lazily
    previous = jobs.set_backend(None)
    try:
        monkeypatch.setenv(config.REDIS_URL_ENV, "redis://127.0.0.1:1/0")
        assert isinstance(jobs.backend(), RedisQueue)
    finally:
        jobs.set_backend(previous)


def test_the_container_health_check_follows_the_heartbeat_of_this_hosts_worker(url):
    import socket

    from cnnviz.jobs.worker import Heartbeat, main

    check = ["--url", url, "--queue", "health", "--check"]
    assert main(check) == 1  # no worker yet
    heartbeat = Heartbeat(url, f"{socket.gethostname()}-1-test", "health", ttl=30)
    heartbeat.beat(heartbeat.ttl)
    assert main(check) == 0
    heartbeat.stop()  # a worker that stops withdraws its promise at once
    assert main(check) == 1
    assert main(["--url", "redis://127.0.0.1:1/0", "--check"]) == 1  # Redis away
