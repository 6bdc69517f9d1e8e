"""Keras training progress shown live in Streamlit."""

from __future__ import annotations

import keras
import streamlit as st


class KerasProgress(keras.callbacks.Callback):
    """A Keras callback that moves a progress bar and reports epoch, loss and accuracy.

    Streamlit may stop the script at any Streamlit call (a student touching a
    widget); the callback then simply stops being called with the training.
    """

    def __init__(self, total_epochs: int, label: str = "Training"):
        super().__init__()
        self.total_epochs = max(int(total_epochs), 1)
        self.label = label
        self._bar = st.progress(0.0, text=f"{label}: starting…")
        self._epoch = 0

    def on_epoch_end(self, epoch, logs=None):
        self._epoch += 1
        logs = logs or {}
        parts = [f"epoch {self._epoch}/{self.total_epochs}"]
        for key, name in (("loss", "loss"), ("accuracy", "accuracy"),
                          ("val_loss", "val loss"), ("val_accuracy", "val accuracy")):
            if key in logs:
                parts.append(f"{name} {logs[key]:.3f}")
        self._bar.progress(min(self._epoch / self.total_epochs, 1.0),
                           text=f"{self.label}: " + " · ".join(parts))

    def on_train_end(self, logs=None):
        self._bar.progress(1.0, text=f"{self.label}: done")
