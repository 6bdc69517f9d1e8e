"""Training jobs on a page: submit from a form, watch the queue and the curves while the
run trains, stop it, keep its result.

A page names a *slot* (one per experiment on the page) and calls::

    if submitted:
        ui_jobs.submit("augmentation", "augmentation", settings)
    ui_jobs.follow("augmentation", draw=ui_jobs.draw_curves)  # in flight: live view
    latest = ui_jobs.latest("augmentation")  # the newest finished run, with its result

The run trains in a job (:mod:`cnnviz.jobs`), not in the page's script, so touching a
widget does not stop it. While it is in flight, a fragment polls its status every
second and redraws only itself (queue position, progress, the curves so far, a Stop
button); when it ends, one rerun of the page shows the full result.

Run pressed again while a run of this session is in flight *queues* the new settings
behind it (the same settings again are not queued twice); both show, each with its
own button, and the newest finished run is the one on display.

The backend is chosen once per process from the app's settings (:mod:`cnnviz.ui.settings`:
a Redis URL in the environment or the secrets means the shared queue). When that
queue cannot be reached, ``submit`` raises :class:`~cnnviz.jobs.QueueUnavailable`
(the page's ``ui.guard`` shows it) and a run in flight shows the same sentence until
the queue answers again.
"""

from __future__ import annotations

import gc
import sys
import threading
from collections.abc import Callable

import streamlit as st

from cnnviz import jobs
from cnnviz.jobs import JobStatus, QueueUnavailable, State, UnknownJob, settings_key
from cnnviz.ui import settings as app_settings

#: Finished runs kept per slot and session (the transfer page tabulates them).
KEEP_FINISHED = 20
#: Seconds between two looks at a run in flight: each look is a script run, whose
#: cost every other session and the training itself share.
POLL_SECONDS = 2.0


_backend_chosen = threading.Event()


def _choose_backend() -> None:
    """Once per process: the shared queue when the app's settings name a Redis (the
    environment or ``st.secrets``), else the in-process pool."""
    if not _backend_chosen.is_set():
        jobs.backend(app_settings.redis_url())
        _backend_chosen.set()


def _slot(slot: str) -> dict:
    return st.session_state.setdefault(f"_cnnviz_jobs_{slot}",
                                       {"pending": [], "finished": [], "note": ""})


def submit(slot: str, kind: str, settings) -> None:
    """Ask for a run of ``kind`` with ``settings``: queued, joined to the identical run
    someone else started, or answered at once from a finished one."""
    state = _slot(slot)
    key = settings_key(kind, settings)
    if any(entry["key"] == key for entry in state["pending"]):
        st.toast("This run is already in progress: its curves are below.",
                 icon=":material/hourglass_top:")
        return
    _choose_backend()
    job_id = jobs.submit(kind, settings)
    status = jobs.status(job_id)
    state["note"] = ""
    if status.state is State.DONE:
        _keep(state, status)
        st.toast("Same settings as a run already finished on this server: showing its "
                 "results.", icon=":material/replay:")
        return
    if state["pending"]:
        st.toast("Queued behind your run in progress.", icon=":material/queue:")
    state["pending"].append({"id": job_id, "key": key, "joined": status.requests > 1})


def in_flight(slot: str) -> bool:
    """True while a run this session asked for in ``slot`` is queued or training."""
    return bool(_slot(slot)["pending"])


def latest(slot: str) -> JobStatus | None:
    """The newest finished run of this session in ``slot`` that has a result."""
    return next((s for s in reversed(_slot(slot)["finished"]) if s.result is not None), None)


def finished(slot: str) -> list[JobStatus]:
    """Every finished run of this session in ``slot`` (the last ``KEEP_FINISHED``)."""
    return list(_slot(slot)["finished"])


def follow(slot: str, draw: Callable[[JobStatus], None] | None = None) -> None:
    """Show this session's runs in ``slot`` that are still in flight, live, and the
    error of a run that failed. ``draw(status)`` draws a running job's figures."""
    state = _slot(slot)
    if state["note"]:
        st.info(state["note"], icon=":material/info:")
    if state["pending"]:
        _choose_backend()
        _freeze_long_lived_objects()
        _live(slot, draw)
    elif state["finished"] and state["finished"][-1].state is State.FAILED:
        st.error(state["finished"][-1].error, icon=":material/error:")


@st.fragment(run_every=POLL_SECONDS)
def _live(slot: str, draw) -> None:
    state = _slot(slot)
    ended = False
    for entry in list(state["pending"]):
        try:
            status = jobs.status(entry["id"])
        except UnknownJob as error:
            state["pending"].remove(entry)
            state["note"] = str(error)
            ended = True
            continue
        except QueueUnavailable as error:  # the run may go on: look again next time
            st.warning(str(error), icon=":material/cloud_off:")
            continue
        if status.finished:
            state["pending"].remove(entry)
            _keep(state, status)
            ended = True
        else:
            _show(slot, entry, status, draw)
    if ended:
        st.rerun()


def _show(slot: str, entry: dict, status: JobStatus, draw) -> None:
    with st.container(border=True):
        if status.state is State.QUEUED:
            ahead = status.ahead
            st.info(f"Waiting for the server: {ahead} run{'s' if ahead != 1 else ''} ahead of "
                    f"yours. It starts by itself; you can use the other pages meanwhile.",
                    icon=":material/hourglass_top:")
            if status.notice:
                st.warning(status.notice, icon=":material/engineering:")
        else:
            progress = status.progress
            left = status.remaining
            text = progress.get("message", "starting…")
            if status.stopping:
                text = "stopping at the next batch…"
            elif left is not None:
                text += f" · about {duration(left)} left"
            st.progress(min(float(progress.get("fraction", 0.0)), 1.0), text=text)
            if entry["joined"]:
                st.caption("Someone else on this server asked for exactly these settings "
                           "first: you share their run and its result.")
            if draw is not None and progress.get("runs"):
                draw(status)
        label = "Cancel" if status.state is State.QUEUED else "Stop training"
        st.button(label, key=f"stop_{entry['id']}", icon=":material/stop:",
                  disabled=status.stopping, on_click=_stop, args=(slot, entry["id"]))


def _stop(slot: str, job_id: str) -> None:
    state = _slot(slot)
    entry = next((e for e in state["pending"] if e["id"] == job_id), None)
    if entry is None:
        return
    try:
        status = jobs.cancel(job_id)
    except QueueUnavailable as error:
        state["note"] = str(error)
        return
    if status.state is State.RUNNING and not status.stopping:
        state["pending"].remove(entry)  # others still wait for it: it goes on without us
        state["note"] = ("You stopped following that run; it goes on for the other "
                         "students who asked for the same settings.")


_frozen = threading.Event()


def _freeze_long_lived_objects() -> None:
    """Keep Python's garbage collector off TensorFlow's own objects, once per process.

    At the end of every script run, fragment reruns included, Streamlit calls
    ``gc.collect(2)`` and ``keras.backend.clear_session()``, which collects again.
    With TensorFlow loaded each full collection walks some 370 000 objects and holds
    the GIL for 0.1-0.3 s, so a few sessions polling a run starve the training thread.
    Measured here (``tests/trainingload.py``: three students training, one probing):
    without the freeze no run finished an epoch in 400 s and the probing page took
    15 s a rerun; with it all three runs ended within 40 s, probing took 1-2 s.
    ``gc.freeze()`` after one collection moves the objects alive now (modules,
    classes, the shared models) out of the collector's sight; it still collects
    everything made later. The price: a reference cycle among today's survivors
    that is dropped later is never collected.
    """
    if _frozen.is_set() or "tensorflow" not in sys.modules:
        return
    _frozen.set()
    gc.collect()
    gc.freeze()


def _keep(state: dict, status: JobStatus) -> None:
    state["finished"] = [*state["finished"], status][-KEEP_FINISHED:]


def draw_curves(status: JobStatus, metrics=("accuracy", "loss"), *,
                validation: bool = True) -> None:
    """The curves of every run so far, side by side per metric, on the planned epoch
    axis, with the phase boundaries that have appeared; without the validation curves
    when ``validation`` is False."""
    from cnnviz.figures import training as training_figures

    runs = status.progress["runs"]
    histories = {label: run["history"] if validation else
                 {key: values for key, values in run["history"].items()
                  if not key.startswith("val_")}
                 for label, run in runs.items() if run["history"]}
    boundaries = {label: [start for start, _ in run["phases"] if start > 0]
                  for label, run in runs.items() if label in histories}
    planned = max((run["epochs"] for run in runs.values()), default=None)
    unit = status.progress.get("unit", "epoch")
    columns = st.columns(len(metrics))
    for column, metric in zip(columns, metrics):
        column.plotly_chart(training_figures.history_figure(
            histories, metric, boundaries=boundaries, epochs=planned, unit=unit,
            span=1 / len(metrics)), width="stretch", key=f"live_{status.id}_{metric}")


def draw_training_curves(status: JobStatus) -> None:
    """Live curves on the training set only: for a page that asks students to predict
    what validation will show, so the run in progress does not answer the question."""
    draw_curves(status, validation=False)
    st.caption("Training-set curves only while it trains: the validation numbers answer "
               "the question asked when the run ends, so they come after your prediction.")


def duration(seconds: float) -> str:
    """"45 s", "1 min 25 s", "12 min": how long, as a student reads it."""
    seconds = max(int(round(seconds)), 1)
    if seconds < 60:
        return f"{seconds} s"
    minutes, rest = divmod(seconds, 60)
    if minutes >= 10:
        return f"{round(seconds / 60)} min"
    return f"{minutes} min {rest} s" if rest else f"{minutes} min"


def expected(kind: str, *settings) -> str:
    """"about 1 min 25 s on this server" for runs of ``kind`` with each of ``settings``
    one after the other, from the runs measured here ("" if not known)."""
    try:
        _choose_backend()
        seconds = [jobs.estimate(kind, one) for one in settings]
    except Exception:  # noqa: BLE001 - an estimate must never break a page
        return ""
    if not seconds or None in seconds:
        return ""
    return f"about {duration(sum(seconds))} on this server"
