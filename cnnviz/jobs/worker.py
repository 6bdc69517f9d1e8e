"""A training worker: ``python -m cnnviz.jobs.worker`` runs the trainings the app
servers queue in Redis (:mod:`cnnviz.jobs.redisqueue`), one at a time, on this
machine or any other that reaches the same Redis.

    CNNVIZ_REDIS_URL=redis://redis:6379/0 python -m cnnviz.jobs.worker

It is RQ's ``SimpleWorker`` with two additions:

- TensorFlow, Keras and every kind's training module are imported once, before the
  first job, and jobs run in this process (no fork per job: a forked TensorFlow is
  unsafe, and a fresh process would pay the import for every run);
- a thread says every :data:`~cnnviz.jobs.redisqueue.HEARTBEAT_SECONDS` that the
  worker is alive, so that the app servers see within
  :data:`~cnnviz.jobs.redisqueue.WORKER_TTL` seconds when it was killed mid-run.

Start as many as the machines have cores to spare for training (each one trains one
run at a time, and a run uses the cores TensorFlow gives it: set
``TF_NUM_INTRAOP_THREADS`` when several share a machine).
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import socket
import threading
import uuid

from cnnviz import config
from cnnviz.jobs.kinds import KINDS
from cnnviz.jobs.redisqueue import (
    HEARTBEAT_SECONDS,
    QUEUE_NAME,
    WORKER_TTL,
    connect,
    key,
    redis_now,
)

log = logging.getLogger("cnnviz.jobs.worker")

#: imported once before the first job (``--preload`` replaces the list)
PRELOAD = ("tensorflow", "keras", "cnnviz.training.loop",
           *dict.fromkeys(kind.run.partition(":")[0] for kind in KINDS.values()))
#: a worker that stopped promising longer ago than this is forgotten
FORGET_AFTER = 24 * 3600


class Heartbeat(threading.Thread):
    """A few times per ``ttl``, promise in Redis that worker ``name`` of ``queue`` is
    alive for the next ``ttl`` seconds; on :meth:`stop`, withdraw the promise at once."""

    def __init__(self, url: str, name: str, queue: str = QUEUE_NAME, ttl: float = WORKER_TTL):
        super().__init__(name=f"heartbeat-{name}", daemon=True)
        self.client, self.worker, self.ttl = connect(url), name, ttl
        self.key, self.queue = key("workers", queue), queue
        self.every = min(HEARTBEAT_SECONDS, ttl / 4)
        self._stopped = threading.Event()

    def beat(self, ttl: float) -> None:
        now = redis_now(self.client)
        with self.client.pipeline() as pipe:
            pipe.zadd(self.key, {self.worker: now + ttl})
            pipe.hset(key("promise", self.queue), self.worker, ttl)  # for run_job's renewals
            pipe.zremrangebyscore(self.key, "-inf", now - FORGET_AFTER)
            pipe.execute()

    def run(self) -> None:
        import redis

        while not self._stopped.is_set():
            try:
                self.beat(self.ttl)
            except redis.RedisError as error:
                log.warning("heartbeat: Redis cannot be reached: %s", error)
            self._stopped.wait(self.every)

    def stop(self) -> None:
        import redis

        self._stopped.set()
        try:
            self.beat(0.0)  # gone now: a run it still held reads as lost, not running
        except redis.RedisError:
            pass


def alive_on_this_host(url: str, queue: str = QUEUE_NAME) -> bool:
    """True when a worker started on this host (by its default name) has a heartbeat
    in Redis that still holds: the container health check of ``--check``."""
    client = connect(url)
    alive = client.zrangebyscore(key("workers", queue), redis_now(client), "+inf")
    return any(name.decode().startswith(f"{socket.gethostname()}-") for name in alive)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m cnnviz.jobs.worker",
        description="Run the cnnviz training jobs queued in Redis, one at a time.")
    parser.add_argument("--url", default=config.redis_url(),
                        help=f"the Redis URL (default: ${config.REDIS_URL_ENV})")
    parser.add_argument("--name", default=None,
                        help="this worker's name (default: host, process id and a suffix)")
    parser.add_argument("--queue", default=QUEUE_NAME, help="the RQ queue to take jobs from")
    parser.add_argument("--preload", action="append", default=None, metavar="MODULE",
                        help="a module to import before the first job (repeatable; "
                             "default: TensorFlow, Keras and the training modules)")
    parser.add_argument("--burst", action="store_true",
                        help="stop once the queue is empty")
    parser.add_argument("--heartbeat-ttl", type=float, default=WORKER_TTL, metavar="SECONDS",
                        help="a run of this worker reads as lost this long after the worker "
                             f"stopped (default {WORKER_TTL:g})")
    parser.add_argument("--check", action="store_true",
                        help="do not work: exit 0 if a worker on this host is alive "
                             "(its heartbeat holds), else 1 (a container health check)")
    args = parser.parse_args(argv)
    if not args.url:
        parser.error(f"no Redis URL: set {config.REDIS_URL_ENV} or pass --url")
    if args.check:
        import redis

        try:
            return 0 if alive_on_this_host(args.url, args.queue) else 1
        except redis.RedisError:
            return 1
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")

    for module in args.preload or PRELOAD:
        importlib.import_module(module)
    log.info("imported %s", ", ".join(args.preload or PRELOAD))

    from rq import Queue, SimpleWorker

    name = args.name or f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"
    client = connect(args.url)
    heartbeat = Heartbeat(args.url, name, args.queue, args.heartbeat_ttl)
    heartbeat.beat(heartbeat.ttl)  # fails here, clearly, if Redis cannot be reached
    heartbeat.start()
    worker = SimpleWorker([Queue(args.queue, connection=client)], connection=client,
                          name=name)
    try:
        worker.work(burst=args.burst, logging_level="INFO", with_scheduler=False)
    finally:
        heartbeat.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
