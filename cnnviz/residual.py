"""Plain vs residual: do gradients reach the first layers of a deep network?

Two networks with the SAME layers and the SAME initial weights (fixed seeds),
in the pre-activation order of He et al. (2016, "Identity mappings in deep
residual networks")::

    plain:     x_l = F_l(x_{l-1})
    residual:  x_l = x_{l-1} + F_l(x_{l-1})          (identity shortcut)
    with       F_l(x) = conv_l(act(BN_l(x)))          (BN_l only with ``batchnorm``)

a 3x3 stem conv with stride 2, ``depth`` 3x3 convs of ``width`` channels, then
(BN,) act, flatten and a dense logits layer; He-normal initialisation. Nothing but
the shortcut differs. Batch norm always uses the batch's own statistics (training
mode): the experiment only measures training.

Measured, on a fixed batch of ``make_shapes`` images: the norm of the gradient of
the cross-entropy loss with respect to each conv's kernel (at initialisation and
after training), and with respect to each layer's output x_l (at initialisation:
how the backward signal grows or shrinks from layer to layer); then a few Adam
steps on a small fixed training set (can the network fit it at all?): the
training loss of both, and how far each layer's kernel moved.

Why the shortcut matters: ∂x_l/∂x_{l-1} = I + ∂F_l/∂x_{l-1}, so the backward
signal is multiplied by (I + ...) at every layer instead of by ∂F_l/∂x_{l-1}
alone; a product of many small (or many large) factors is avoided. What the
run actually shows is put into words by :mod:`cnnviz.residual_text` from the
measured numbers, whichever activation was chosen.

For speed the stack runs as plain TensorFlow ops on the same weights (a Keras
model of the same network, ``keras_stack``, is built from the same seeds; a test
checks both give the same outputs).
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass

import numpy as np

from cnnviz.errors import CnnvizError
from cnnviz.training.loop import Progress, Report, ShouldStop

ACTIVATIONS = ("relu", "tanh", "sigmoid")
#: Keras' BatchNormalization epsilon, used by the TensorFlow ops too
BN_EPSILON = 1e-3
MAX_DEPTH = 60


@dataclass(frozen=True)
class Settings:
    """One plain-vs-residual comparison. The defaults take about 25 CPU seconds
    (``benchmarks/bench_residual.py``)."""

    depth: int = 50  # deep enough that the plain net stalls (benchmarks/bench_residual.py)
    activation: str = "relu"
    batchnorm: bool = True
    steps: int = 40
    learning_rate: float = 0.003
    batch: int = 64
    width: int = 8
    size: int = 16  # make_shapes image size
    classes: int = 5
    seed: int = 0
    train_images: int = 128  # a small fixed training set, cycled through


def check(s: Settings) -> None:
    """Refuse settings the experiment cannot run, in words a student reads."""
    if s.activation not in ACTIVATIONS:
        raise CnnvizError(f"Activation must be one of {', '.join(ACTIVATIONS)}.")
    if not 1 <= s.depth <= MAX_DEPTH:
        raise CnnvizError(f"Depth must be between 1 and {MAX_DEPTH} conv layers.")
    if s.steps < 1 or s.batch < 2 or s.train_images < s.batch:
        raise CnnvizError("Train for at least one step, on batches of at least 2 images, "
                          "with at least one batch of training images.")


@dataclass
class Weights:
    """Every weight of one network: stem and head (kernel, bias), one (kernel, bias)
    per stacked conv, one (gamma, beta) per batch norm (none without batch norm)."""

    stem: tuple
    convs: list
    norms: list
    head: tuple

    def flat(self) -> list:
        pairs = [self.stem, *self.convs, *self.norms, self.head]
        return [v for pair in pairs for v in pair]

    def map(self, fn) -> Weights:
        def pair(p):
            return tuple(fn(v) for v in p)

        return Weights(pair(self.stem), [pair(p) for p in self.convs],
                       [pair(p) for p in self.norms], pair(self.head))


def initial_weights(s: Settings) -> Weights:
    """He-normal kernels (seeded per layer), zero biases, BN gamma 1 and beta 0."""
    import keras

    def kernel(shape, seed):
        return np.asarray(keras.initializers.HeNormal(seed=seed)(shape), np.float32)

    zeros = np.zeros(s.width, np.float32)
    stem = (kernel((3, 3, 3, s.width), s.seed), zeros)
    convs = [(kernel((3, 3, s.width, s.width), s.seed + i), zeros)
             for i in range(1, s.depth + 1)]
    norms = ([(np.ones(s.width, np.float32), zeros) for _ in range(s.depth + 1)]
             if s.batchnorm else [])
    flat = (s.size // 2) ** 2 * s.width
    head = (np.asarray(keras.initializers.GlorotUniform(seed=s.seed)((flat, s.classes)),
                       np.float32), np.zeros(s.classes, np.float32))
    return Weights(stem, convs, norms, head)


def keras_stack(s: Settings, *, residual: bool):
    """The same network as a Keras functional model (for code, summary and tests).

    Call it with ``training=True`` to compare: the batch norms then use the batch's
    statistics, as the experiment does."""
    import keras
    from keras import layers

    w = initial_weights(s)
    inputs = keras.Input((s.size, s.size, 3))
    x = layers.Conv2D(s.width, 3, strides=2, padding="same", name="stem")(inputs)
    for i in range(1, s.depth + 1):
        y = layers.BatchNormalization(epsilon=BN_EPSILON, name=f"bn_{i}")(x) \
            if s.batchnorm else x
        y = layers.Activation(s.activation)(y)
        y = layers.Conv2D(s.width, 3, padding="same", name=f"conv_{i}")(y)
        x = layers.Add()([x, y]) if residual else y
    if s.batchnorm:
        x = layers.BatchNormalization(epsilon=BN_EPSILON, name="bn_out")(x)
    x = layers.Activation(s.activation)(x)
    x = layers.Flatten()(x)
    outputs = layers.Dense(s.classes, name="logits")(x)
    model = keras.Model(inputs, outputs)
    model.get_layer("stem").set_weights(list(w.stem))
    for i, pair in enumerate(w.convs, 1):
        model.get_layer(f"conv_{i}").set_weights(list(pair))
    names = [f"bn_{i}" for i in range(1, s.depth + 1)] + ["bn_out"]
    for name, (gamma, beta) in zip(names, w.norms):
        bn = model.get_layer(name)
        bn.set_weights([gamma, beta, *bn.get_weights()[2:]])
    model.get_layer("logits").set_weights(list(w.head))
    return model


def _activation(tf, name: str):
    return {"relu": tf.nn.relu, "tanh": tf.math.tanh, "sigmoid": tf.math.sigmoid}[name]


def _batchnorm(tf, x, gamma, beta):
    mean, variance = tf.nn.moments(x, axes=[0, 1, 2])
    return tf.nn.batch_normalization(x, mean, variance, beta, gamma, BN_EPSILON)


def _forward(tf, w: Weights, x, s: Settings, residual: bool, outputs: list | None = None):
    """Logits; with ``outputs``, each layer's output x_l is appended to it (l = 1..depth)."""
    act = _activation(tf, s.activation)
    x = tf.nn.conv2d(x, w.stem[0], 2, "SAME") + w.stem[1]
    for i, (kernel, bias) in enumerate(w.convs):
        h = _batchnorm(tf, x, *w.norms[i]) if s.batchnorm else x
        y = tf.nn.conv2d(act(h), kernel, 1, "SAME") + bias
        x = x + y if residual else y
        if outputs is not None:
            outputs.append(x)
    h = _batchnorm(tf, x, *w.norms[-1]) if s.batchnorm else x
    h = tf.reshape(act(h), (tf.shape(h)[0], -1))
    return tf.matmul(h, w.head[0]) + w.head[1]


def forward(s: Settings, images: np.ndarray, *, residual: bool) -> np.ndarray:
    """Logits of the TF-ops network at initialisation (to compare with keras_stack)."""
    import tensorflow as tf

    w = initial_weights(s).map(tf.constant)
    return _forward(tf, w, tf.constant(images, tf.float32), s, residual).numpy()


def _data(s: Settings):
    from cnnviz.data import SOURCE_CLASSES, make_shapes

    shapes = make_shapes(s.train_images, size=s.size, seed=s.seed,
                         classes=list(SOURCE_CLASSES[:s.classes]))
    return shapes.images, shapes.labels


def _run(s: Settings, residual: bool, images, labels, label: str,
         progress: Progress | None = None, should_stop: ShouldStop = None) -> dict | None:
    import tensorflow as tf

    w = initial_weights(s).map(tf.Variable)
    flat = w.flat()
    kernels = [k for k, _ in w.convs]  # the depth stacked convs
    probe_x = tf.constant(images[:s.batch])
    probe_y = tf.constant(labels[:s.batch])

    def loss_fn(x, y, outputs=None):
        logits = _forward(tf, w, x, s, residual, outputs)
        return tf.reduce_mean(
            tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=logits))

    def grad_norms(with_signal: bool = False):
        outputs = []
        with tf.GradientTape() as tape:
            loss = loss_fn(probe_x, probe_y, outputs)
        grads = tape.gradient(loss, kernels + (outputs if with_signal else []))
        norms = [float(tf.norm(g)) for g in grads]
        return (norms[:s.depth], norms[s.depth:]) if with_signal else norms

    init, signal = grad_norms(with_signal=True)
    start_weights = [k.numpy() for k in kernels]
    # Adam (beta1 0.9, beta2 0.999) on every weight, written out in one traced step
    m = [tf.Variable(tf.zeros_like(v)) for v in flat]
    v2 = [tf.Variable(tf.zeros_like(v)) for v in flat]
    lr = tf.constant(s.learning_rate, tf.float32)

    @tf.function(autograph=False)  # plain Python loops: no conversion needed, faster trace
    def train_step(x, y, t):
        with tf.GradientTape() as tape:
            loss = loss_fn(x, y)
        grads = tape.gradient(loss, flat)
        for var, g, m_i, v_i in zip(flat, grads, m, v2):
            m_i.assign(0.9 * m_i + 0.1 * g)
            v_i.assign(0.999 * v_i + 0.001 * g * g)
            m_hat = m_i / (1 - tf.pow(0.9, t))
            v_hat = v_i / (1 - tf.pow(0.999, t))
            var.assign_sub(lr * m_hat / (tf.sqrt(v_hat) + 1e-7))
        return loss

    losses = []
    n = len(images)
    for step in range(1, s.steps + 1):
        start = ((step - 1) * s.batch) % n
        loss = train_step(tf.constant(images[start:start + s.batch]),
                          tf.constant(labels[start:start + s.batch]),
                          tf.constant(float(step)))
        losses.append(float(loss))
        if progress is not None:
            progress.epoch(label, {"loss": losses})
        if should_stop is not None and should_stop():
            return None
    moved = [float(np.linalg.norm(k.numpy() - w0) / np.linalg.norm(w0))
             for k, w0 in zip(kernels, start_weights)]
    return {"init": init, "signal": signal, "trained": grad_norms(), "loss": losses,
            "moved": moved}


def compare(settings: Settings | None = None, *, progress: Progress | None = None,
            should_stop: ShouldStop = None) -> dict | None:
    """Measure both networks; a JSON-able result, or None if ``should_stop`` ended it.

    ``progress`` (a :class:`cnnviz.training.loop.Progress`) hears each network's
    training loss after every step; ``should_stop`` is polled after every step.
    """
    s = settings or Settings()
    check(s)
    started = time.perf_counter()
    images, labels = _data(s)
    result = {"settings": asdict(s)}
    names = (("plain", False), ("residual", True))
    for name, _ in names:
        if progress is not None:
            progress.plan(name, s.steps)
    for name, residual in names:
        if progress is not None:
            progress.phase(name, "training", 0)
        result[name] = _run(s, residual, images, labels, name, progress, should_stop)
        if result[name] is None:
            return None
    result["seconds"] = time.perf_counter() - started
    return result


def run(settings: Settings, report: Report = None, should_stop: ShouldStop = None
        ) -> dict | None:
    """The comparison as a job (kind ``"residual"``); None when stopped (a half-trained
    comparison measures nothing)."""
    return compare(settings, progress=Progress(report, unit="step"), should_stop=should_stop)


def cost(settings: Settings) -> tuple[str, float]:
    """(what kind of work, how much): conv layers x images x steps, both networks.

    Tracing the training step costs seconds per layer, so depth counts twice."""
    return "residual", 2 * settings.depth * (settings.steps * settings.batch + 100)


#: CPU seconds of one run with the default Settings (benchmarks/bench_residual.py:
#: 23-26 s over seeds 0 and 1; the wall time is at most that on two idle cores, and
#: grows with the load). Rerun the benchmark when the defaults change.
DEFAULT_CPU_SECONDS = 25.0


def benchmark_seconds(settings: Settings) -> float:
    """The benchmark's CPU time for the defaults, scaled by :func:`cost`: what to expect
    before this server has measured a run of its own."""
    return DEFAULT_CPU_SECONDS * cost(settings)[1] / cost(Settings())[1]


def summary(result: dict) -> dict:
    """First- and last-layer gradient norms and their ratio, per network and phase;
    the loss at the start and the end of training (means of the first and last fifth
    of the steps)."""
    out = {}
    for name in ("plain", "residual"):
        for phase in ("init", "signal", "trained"):
            norms = result[name].get(phase)
            if norms is None:  # a result measured before the signal was recorded
                continue
            out[f"{name}_{phase}"] = {"first": norms[0], "last": norms[-1],
                                      "first_over_last": norms[0] / max(norms[-1], 1e-38)}
        losses = result[name]["loss"]
        k = max(1, len(losses) // 5)
        out[f"{name}_loss"] = {"start": float(np.mean(losses[:k])),
                               "end": float(np.mean(losses[-k:]))}
    return out


def table_records(result: dict) -> list[dict]:
    """First- and last-layer gradient norms of both networks, for a table."""
    steps = result["settings"]["steps"]
    return [{
        "network": name,
        "first layer, init": result[name]["init"][0],
        "last layer, init": result[name]["init"][-1],
        f"first layer, after {steps} steps": result[name]["trained"][0],
        f"last layer, after {steps} steps": result[name]["trained"][-1],
        "first layer's weights moved": f"{100 * result[name]['moved'][0]:.2f}%",
    } for name in ("plain", "residual")]
