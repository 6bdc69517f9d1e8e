"""Ten different trainings at once: the embedded pool against two queue workers; and
what happens to a run whose worker is killed.

    .venv/bin/python benchmarks/bench_queue.py [--runs 10] [--epochs 3]

1. **Embedded**: ten augmentation experiments (tiny but real: the shapes data, a few
   images, a few epochs; seeds 0-9, so ten different jobs) submitted at once to an
   ``EmbeddedPool`` with its default number of workers (``CNNVIZ_TRAINING_WORKERS``,
   else 1), in this process, TensorFlow imported beforehand.
2. **Queue**: the same ten (other seeds, so no result is reused) on a fresh
   ``redis-server`` with two ``python -m cnnviz.jobs.worker`` processes (each
   ``TF_NUM_INTRAOP_THREADS=1``), submitted through ``RedisQueue`` as an app server
   does.
3. **Worker killed**: one longer run on one worker; SIGKILL the worker mid-run; how
   long until the run reads as failed (and with which sentence), what became of its
   progress, and whether the retry on a new worker runs to the end.

Wall time from the first submit to the last result, CPU seconds of the processes
that trained (this process for the embedded pool; the workers, read from /proc), and
the load average around each part: the machine is shared, so read the figures with
their load.
"""

from __future__ import annotations

import argparse
import os
import resource
import signal
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent / "tests"), str(HERE.parent)]

from common import write_result  # noqa: E402
from queueworkers import start_worker, stop, wait_until_alive  # noqa: E402
from redisserver import redis_server  # noqa: E402

from cnnviz.jobs import EmbeddedPool, State  # noqa: E402
from cnnviz.jobs.redisqueue import RedisQueue  # noqa: E402
from cnnviz.training.augmentation import AugmentSettings  # noqa: E402

HEARTBEAT_TTL = 15.0  # the default


def settings(seed: int, epochs: int) -> AugmentSettings:
    return AugmentSettings(n_train=10, n_val=10, size=48, epochs=epochs, batch_size=16,
                           seed=seed)


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def wait_all(backend, ids, timeout=3600.0) -> list:
    deadline = time.monotonic() + timeout
    while True:
        statuses = [backend.status(i) for i in ids]
        if all(s.finished for s in statuses):
            return statuses
        if time.monotonic() > deadline:
            raise RuntimeError(f"not finished: {[s.state for s in statuses]}")
        time.sleep(0.5)


def load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def embedded(runs: int, epochs: int) -> dict:
    pool = EmbeddedPool()
    before, load_before = own_cpu(), load()
    began = time.monotonic()
    ids = [pool.submit("augmentation", settings(seed, epochs)) for seed in range(runs)]
    statuses = wait_all(pool, ids)
    wall = time.monotonic() - began
    pool.close()
    return {"workers": pool.workers, "wall_s": round(wall, 1),
            "cpu_s": round(own_cpu() - before, 1),
            "done": sum(s.state is State.DONE for s in statuses),
            "run_seconds": [round(s.elapsed, 1) for s in statuses],
            "load_before": load_before, "load_after": load()}


def queue(url: str, runs: int, epochs: int, log: Path) -> dict:
    import redis

    client = redis.Redis.from_url(url)
    names = ["bench-1", "bench-2"]
    processes = [start_worker(url, name, env={"TF_NUM_INTRAOP_THREADS": "1",
                                              "TF_NUM_INTEROP_THREADS": "1"},
                              log_path=log) for name in names]
    try:
        wait_until_alive(client, names, timeout=300)
        app = RedisQueue(url)
        cpu_before = [cpu_seconds(p.pid) for p in processes]
        load_before = load()
        began = time.monotonic()
        ids = [app.submit("augmentation", settings(100 + seed, epochs))
               for seed in range(runs)]
        statuses = wait_all(app, ids)
        wall = time.monotonic() - began
        cpu = sum(cpu_seconds(p.pid) - b for p, b in zip(processes, cpu_before))
    finally:
        for process in processes:
            stop(process)
    return {"workers": len(names), "worker_threads": 1, "wall_s": round(wall, 1),
            "cpu_s": round(cpu, 1), "done": sum(s.state is State.DONE for s in statuses),
            "run_seconds": [round(s.elapsed, 1) for s in statuses],
            "load_before": load_before, "load_after": load()}


def killed(url: str, log: Path) -> dict:
    import redis

    client = redis.Redis.from_url(url)
    app = RedisQueue(url)
    doomed = start_worker(url, "doomed", log_path=log)
    wait_until_alive(client, ["doomed"], timeout=300)
    job = app.submit("augmentation", settings(900, 40))
    while True:  # until some epochs are done
        status = app.status(job)
        if status.state is State.RUNNING and status.progress.get("fraction", 0) >= 0.1:
            break
        time.sleep(0.2)
    progress_at_kill = status.progress.get("fraction", 0.0)
    doomed.send_signal(signal.SIGKILL)
    doomed.wait()
    killed_at = time.monotonic()
    seen_running_after_kill = 0
    while (status := app.status(job)).state is State.RUNNING:
        seen_running_after_kill += 1
        time.sleep(0.2)
    detected = time.monotonic() - killed_at
    outcome = {"state": str(status.state), "message": status.error,
               "seconds_until_it_reads_failed": round(detected, 1),
               "heartbeat_ttl_s": HEARTBEAT_TTL,
               "progress_when_killed": round(progress_at_kill, 2),
               "progress_kept": bool(status.result)}
    retry = start_worker(url, "retry", log_path=log)
    try:
        wait_until_alive(client, ["retry"], timeout=300)
        again = app.submit("augmentation", settings(900, 40))
        began = time.monotonic()
        while not (status := app.status(again)).finished:
            if status.state is State.RUNNING and status.progress.get("fraction", 0) > 0:
                break  # the retry trains: enough to know (the run is long)
            time.sleep(0.2)
        outcome["retry_same_job_id"] = again == job
        outcome["retry_state"] = str(status.state)
        outcome["retry_started_from_fraction"] = status.progress.get("fraction", 0.0)
        outcome["retry_running_after_s"] = round(time.monotonic() - began, 1)
        app.cancel(again)
    finally:
        stop(retry)
    return outcome


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--epochs", type=int, default=3)
    args = parser.parse_args()
    import tensorflow  # noqa: F401 - as the worker does: imported before the clock starts

    log = HERE / "results" / "bench_queue_workers.tmp"
    rows = [{"backend": "embedded pool (in the app process)", **embedded(args.runs, args.epochs)}]
    print(rows[-1], flush=True)
    with redis_server() as url:
        rows.append({"backend": "RQ queue, 2 worker processes", **queue(url, args.runs,
                                                                        args.epochs, log)})
        print(rows[-1], flush=True)
        lost = killed(url, log)
        print("worker killed", lost, flush=True)
    pool, workers = rows
    loads = [row[when][0] for row in rows for when in ("load_before", "load_after")]
    summary = (
        f"{args.runs} different trainings submitted at once: embedded pool "
        f"({pool['workers']} at a time) {pool['wall_s']} s wall, {pool['cpu_s']} CPU s; "
        f"2 queue workers {workers['wall_s']} s wall, {workers['cpu_s']} CPU s "
        f"(1-minute load average between {min(loads)} and {max(loads)} on "
        f"{os.cpu_count()} cores shared with other work). A worker killed (SIGKILL) "
        f"{lost['progress_when_killed']:.0%} into a run: the run read "
        f"\"{lost['state']}\" after {lost['seconds_until_it_reads_failed']} s "
        f"(heartbeat promise {lost['heartbeat_ttl_s']:g} s); its progress was "
        f"{'kept' if lost['progress_kept'] else 'lost'}; pressing the button again "
        f"started a new run on another worker from epoch 0 "
        f"({lost['retry_state']} after {lost['retry_running_after_s']} s). Two workers on "
        f"the same cores as the pool can only share those cores: the gain of the queue "
        f"is workers on other machines (their cores add up) and app servers that stay "
        f"free for the pages; on one machine compare the CPU seconds, which show its "
        f"overhead.")
    print(summary)
    write_result("queue", {
        "title": f"{args.runs} different trainings at once: embedded pool vs 2 queue "
                 "workers; a worker killed mid-run",
        "command": "python benchmarks/bench_queue.py"
                   + (f" --runs {args.runs}" if args.runs != 10 else "")
                   + (f" --epochs {args.epochs}" if args.epochs != 3 else ""),
        "settings": {"kind": "augmentation (two runs per job: with and without)",
                     **{k: v for k, v in vars(settings(0, args.epochs)).items()
                        if k in ("dataset", "n_train", "n_val", "size", "epochs",
                                 "batch_size")},
                     "seeds": f"{args.runs} different"},
        "summary": summary,
        "rows": rows,
        "worker_killed": lost,
    })

if __name__ == "__main__":
    main()
