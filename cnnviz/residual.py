"""Plain vs residual: do gradients reach the first layers of a deep network?

Two networks with the SAME layers and the SAME initial weights (fixed seeds):

    plain:     x_l = conv_l(act(x_{l-1}))
    residual:  x_l = x_{l-1} + conv_l(act(x_{l-1}))      (identity shortcut)

a 3x3 stem conv with stride 2, ``depth`` 3x3 convs of ``width`` channels,
then act, flatten and a dense logits layer; He-normal initialisation, no
batch norm (so nothing but the shortcut differs). We measure the norm of the
gradient of the cross-entropy loss with respect to each conv's kernel, on a
fixed batch of ``make_shapes`` images, at initialisation and after a few Adam
steps on a small fixed training set (128 images, cycled: can the network fit
it at all?), the training loss of both, and how far each layer's kernel moved
from its initial value.

With a saturating activation (sigmoid: derivative <= 1/4) every plain layer
multiplies the backward signal by a small factor, so the first layers get
almost nothing: the gradient vanishes geometrically with depth. With the
shortcut, d x_l / d x_{l-1} = I + (...), so the gradient has a path that skips
every layer and reaches the first one at full strength.

For speed the stack runs as plain TensorFlow ops on the same weights (a Keras
model of the same network, ``keras_stack``, is built from the same seeds; a
test checks both give the same outputs). A Keras-layer model is slow to trace
at depth 50 on two cores; these ops are not.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass

import numpy as np

from cnnviz.training.loop import Progress, Report, ShouldStop

ACTIVATIONS = ("sigmoid", "tanh", "relu")

#: what to expect per activation (measured with the default settings, depth 50)
NOTES = {
    "sigmoid": "Sigmoid is the textbook case: its slope is at most 1/4, so the plain net's "
               "gradient shrinks geometrically towards the input, while the shortcuts keep "
               "it flat.",
    "tanh": "With tanh and He initialisation the plain net's gradient does NOT vanish at "
            "initialisation (good initialisation was invented to keep it stable). Without "
            "normalisation the shortcuts add up activations layer after layer, so the "
            "residual net's gradient grows towards the input instead: real ResNets add "
            "batch norm.",
    "relu": "With ReLU and He initialisation the plain net keeps its gradient scale at "
            "initialisation (that is what He init is for) but barely trains. Without "
            "normalisation each shortcut adds the variance of its branch, so the residual "
            "net's activations and loss explode with depth: this is why ResNets use batch "
            "norm (or a scaled-down initialisation of each branch).",
}


@dataclass(frozen=True)
class Settings:
    depth: int = 20
    activation: str = "sigmoid"
    steps: int = 60
    learning_rate: float = 0.003
    batch: int = 64
    width: int = 8
    size: int = 16  # make_shapes image size
    classes: int = 5
    seed: int = 0
    train_images: int = 128  # a small fixed training set, cycled through


def _weights(s: Settings) -> list[tuple[np.ndarray, np.ndarray]]:
    """(kernel, bias) per conv and for the dense head; He-normal kernels, zero biases."""
    import keras

    shapes = [(3, 3, 3, s.width)] + [(3, 3, s.width, s.width)] * s.depth
    flat = (s.size // 2) ** 2 * s.width
    out = []
    for i, shape in enumerate(shapes):
        kernel = keras.initializers.HeNormal(seed=s.seed + i)(shape)
        out.append((np.asarray(kernel, np.float32), np.zeros(shape[-1], np.float32)))
    head = keras.initializers.GlorotUniform(seed=s.seed)((flat, s.classes))
    out.append((np.asarray(head, np.float32), np.zeros(s.classes, np.float32)))
    return out


def keras_stack(s: Settings, *, residual: bool):
    """The same network as a Keras functional model (for code, summary and tests)."""
    import keras
    from keras import layers

    weights = _weights(s)
    inputs = keras.Input((s.size, s.size, 3))
    x = layers.Conv2D(s.width, 3, strides=2, padding="same", name="stem")(inputs)
    for i in range(1, s.depth + 1):
        y = layers.Activation(s.activation)(x)
        y = layers.Conv2D(s.width, 3, padding="same", name=f"conv_{i}")(y)
        x = layers.Add()([x, y]) if residual else y
    x = layers.Activation(s.activation)(x)
    x = layers.Flatten()(x)
    outputs = layers.Dense(s.classes, name="logits")(x)
    model = keras.Model(inputs, outputs)
    convs = [model.get_layer("stem")] + [model.get_layer(f"conv_{i}")
                                         for i in range(1, s.depth + 1)]
    for layer, (kernel, bias) in zip(convs + [model.get_layer("logits")], weights):
        layer.set_weights([kernel, bias])
    return model


def _forward(tf, variables, x, activation, residual):
    act = getattr(tf.math, activation) if activation != "relu" else tf.nn.relu
    (k0, b0), *convs, (wd, bd) = variables
    x = tf.nn.conv2d(x, k0, 2, "SAME") + b0
    for k, b in convs:
        y = tf.nn.conv2d(act(x), k, 1, "SAME") + b
        x = x + y if residual else y
    x = tf.reshape(act(x), (tf.shape(x)[0], -1))
    return tf.matmul(x, wd) + bd


def forward(s: Settings, images: np.ndarray, *, residual: bool) -> np.ndarray:
    """Logits of the TF-ops network at initialisation (to compare with keras_stack)."""
    import tensorflow as tf

    variables = [(tf.constant(k), tf.constant(b)) for k, b in _weights(s)]
    return _forward(tf, variables, tf.constant(images, tf.float32), s.activation,
                    residual).numpy()


def _data(s: Settings):
    from cnnviz.data import SOURCE_CLASSES, make_shapes

    n = max(s.train_images, s.batch)
    shapes = make_shapes(n, size=s.size, seed=s.seed, classes=list(SOURCE_CLASSES[:s.classes]))
    return shapes.images, shapes.labels


def _run(s: Settings, residual: bool, images, labels, label: str,
         progress: Progress | None = None, should_stop: ShouldStop = None) -> dict | None:
    import tensorflow as tf

    variables = [(tf.Variable(k), tf.Variable(b)) for k, b in _weights(s)]
    flat = [v for pair in variables for v in pair]
    kernels = [k for k, _ in variables[1:-1]]  # the depth stacked convs
    probe_x = tf.constant(images[:s.batch])
    probe_y = tf.constant(labels[:s.batch])

    def loss_fn(x, y):
        logits = _forward(tf, variables, x, s.activation, residual)
        return tf.reduce_mean(
            tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=logits))

    def grad_norms() -> list[float]:
        with tf.GradientTape() as tape:
            loss = loss_fn(probe_x, probe_y)
        grads = tape.gradient(loss, kernels)
        return [float(tf.norm(g)) for g in grads]

    init = grad_norms()
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
    return {"init": init, "trained": grad_norms(), "loss": losses, "moved": moved}


def compare(settings: Settings | None = None, *, progress: Progress | None = None,
            should_stop: ShouldStop = None) -> dict | None:
    """Measure both networks; a JSON-able result, or None if ``should_stop`` ended it.

    ``progress`` (a :class:`cnnviz.training.loop.Progress`) hears each network's
    training loss after every step; ``should_stop`` is polled after every step.
    """
    s = settings or Settings()
    if s.activation not in ACTIVATIONS:
        from cnnviz.errors import CnnvizError

        raise CnnvizError(f"Activation must be one of {', '.join(ACTIVATIONS)}.")
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


def summary(result: dict) -> dict:
    """First- and last-layer gradient norms and their ratio, per network and phase."""
    out = {}
    for name in ("plain", "residual"):
        for phase in ("init", "trained"):
            norms = result[name][phase]
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


def describe(result: dict) -> str:
    """The settings of a run, in a sentence or two, for the caption under the plots."""
    c = result["settings"]
    return (
        f"Measured in {result['seconds']:.1f} s. {c['depth']} 3x3 convs of {c['width']} "
        f"channels after a stride-2 stem, {c['activation']}, He-normal init (seed "
        f"{c['seed']}), no batch norm, flatten + dense head; {c['size']}x{c['size']} "
        f"make_shapes images ({c['classes']} classes); Adam lr {c['learning_rate']}, batch "
        f"{c['batch']}, a fixed set of {c['train_images']} training images; gradient norms "
        "on one fixed batch. Sigmoid's slope is at most 1/4, so each plain layer shrinks "
        "the backward signal; the shortcut gives it a path around every layer. Adam "
        "rescales each weight's step, so tiny gradients still move weights a little, until "
        "they fall below its epsilon."
        + (" A norm of exactly 0 (the gradient underflowed float32) is drawn at 1e-30."
           if any(0.0 in result[n][p] for n in ("plain", "residual")
                  for p in ("init", "trained")) else "")
    )
