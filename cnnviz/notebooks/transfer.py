"""The Keras code of the transfer-learning page: the three phases with the current
settings, in plain Keras (``base.trainable = False``, ``base(x, training=False)``,
recompiling after every change), and the scratch baseline.

The code builds the base as a nested model, as the Keras guide does; the app builds
the same layers flat (``cnnviz.training.transfer.add_head``). The weights, the
initialisers' seeds and the batches (``cnnviz.training.loop.fit``: ``model.fit`` on
batches shuffled from (seed, epoch)) are the same, so the code reproduces the page's
numbers at the same settings.
"""

from __future__ import annotations

from cnnviz.training.transfer import SCRATCH_BATCHNORM_MOMENTUM, TransferSettings
from cnnviz.views import View


def settings_of(view: View) -> TransferSettings:
    """The experiment a view of the Transfer page names."""
    return TransferSettings(
        base=view["base"], target=view["task"], n_train=view["n"], n_val=view["nval"],
        head=view["head"], recipe=view["recipe"], head_epochs=view["ep2"],
        fine_tune_epochs=view["ep3"], unfreeze=view["top"], fine_tune_lr=view["lr3"],
        seed=view["tseed"], scratch=view["scratch"])


def _head(s: TransferSettings, n_classes: str) -> str:
    lines = ["    x = keras.layers.GlobalAveragePooling2D()(features)"]
    if s.head == "hidden":
        lines.append("    x = keras.layers.Dense(64, activation='relu', kernel_initializer="
                     f"keras.initializers.HeNormal({s.seed}))(x)")
    if s.head in ("dropout", "hidden"):
        lines.append(f"    x = keras.layers.Dropout(0.3, seed={s.seed})(x)")
    lines.append(f"    logits = keras.layers.Dense({n_classes}, kernel_initializer="
                 f"keras.initializers.GlorotUniform({s.seed}))(x)")
    return "\n".join(lines)


def code(view: View | TransferSettings) -> str:
    """Python that runs the page's experiment (a view, or its settings); its last cell
    builds ``numbers``, the figures the page shows."""
    s = settings_of(view) if isinstance(view, View) else view
    phase3_lr = s.high_lr if s.recipe == "high_lr" else s.fine_tune_lr
    if s.recipe == "no_freeze":
        phase2 = ("base.trainable = True  # 'no freezing': the base trains with the random "
                  "head\nkeep_batchnorm_frozen(base)")
        phase3 = "# nothing to unfreeze: the whole base is already trainable"
    else:
        phase2 = "base.trainable = False  # freeze the whole base: only the head learns"
        phase3 = (f"base.trainable = True\nweighted = [layer for layer in base.layers\n"
                  f"            if layer.weights and not is_batchnorm(layer)]\n"
                  f"for layer in base.layers:  # unfreeze the top {s.unfreeze} layers with "
                  f"weights\n    layer.trainable = layer in weighted[-{s.unfreeze}:]\n"
                  "keep_batchnorm_frozen(base)")
    epochs = s.head_epochs + s.fine_tune_epochs
    return f'''# %% The new task and the pretrained base
import keras
import numpy as np

from cnnviz import probe
from cnnviz.training.loop import fit  # model.fit on batches shuffled from (seed, epoch)
from cnnviz.training.transfer import TransferSettings, load_base, transfer_split

settings = TransferSettings(base={s.base!r}, target={s.target!r}, n_train={s.n_train}, \
n_val={s.n_val}, seed={s.seed})
split = transfer_split(settings)  # {s.n_train} training, {s.n_val} validation images per class
n_classes = split.n_classes
pretrained = load_base({s.base!r})
last = probe.last_spatial_layer(pretrained)  # cut before the old classifier


def is_batchnorm(layer):
    return isinstance(layer, keras.layers.BatchNormalization)


def keep_batchnorm_frozen(base):
    # Keras 3: a trainable BatchNorm layer updates its moving statistics in fit;
    # set trainable = False on each one explicitly (keras #20285)
    for layer in base.layers:
        if is_batchnorm(layer):
            layer.trainable = False


def compile_for(model, learning_rate):  # compile again after every change of trainable
    model.compile(optimizer=keras.optimizers.Adam(learning_rate),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"], jit_compile=False)


def with_new_head(base, training):
    inputs = keras.Input(split.x_train.shape[1:])
    features = base(inputs, training=training)
{_head(s, "n_classes")}
    return keras.Model(inputs, logits)


# %% Phase 1: a new head on the pretrained base
base = keras.Model(pretrained.inputs, probe.symbolic_outputs(pretrained, [last])[0])
# training=False: BatchNorm runs in inference mode (the pretrained statistics), even
# when its layer is unfrozen later
model = with_new_head(base, training=False)

# %% Phase 2: train the head, {s.head_epochs} epochs at {s.head_lr:g}
{phase2}
compile_for(model, {s.head_lr!r})
history = {{}}
fit(model, split, epochs={s.head_epochs}, batch_size={s.batch_size}, seed={s.seed}, \
label="transfer", history=history)

# %% Phase 3: fine-tune, {s.fine_tune_epochs} epochs at {phase3_lr:g}
{phase3}
compile_for(model, {phase3_lr!r})
fit(model, split, epochs={s.fine_tune_epochs}, initial_epoch={s.head_epochs}, \
batch_size={s.batch_size}, seed={s.seed}, label="transfer", history=history)

# %% The baseline: the same network from random weights, every layer trainable
untouched = load_base({s.base!r})  # the base above was fine-tuned in place
keras.utils.set_random_seed({s.seed})  # clone_model draws new weights from this seed
fresh = keras.models.clone_model(untouched)
scratch_base = keras.Model(fresh.inputs, probe.symbolic_outputs(fresh, [last])[0])
scratch_base.trainable = True  # every layer, BatchNorm too
for layer in scratch_base.layers:  # moving statistics that keep up with a short run
    if isinstance(layer, keras.layers.BatchNormalization):
        layer.momentum = {SCRATCH_BATCHNORM_MOMENTUM!r}
scratch = with_new_head(scratch_base, training=None)  # BatchNorm learns its statistics
compile_for(scratch, {s.scratch_lr!r})
scratch_history = {{}}
fit(scratch, split, epochs={epochs}, batch_size={s.batch_size}, seed={s.seed}, \
label="scratch", history=scratch_history)

# %% The numbers the page shows
numbers = {{"transfer_val_accuracy": history["val_accuracy"][-1],
           "scratch_val_accuracy": scratch_history["val_accuracy"][-1],
           "gain": history["val_accuracy"][-1] - scratch_history["val_accuracy"][-1]}}
print({{k: round(v, 3) for k, v in numbers.items()}})
'''


def maths(view: View, numbers: dict) -> list[str]:
    """The gain and the update of a fine-tuned weight, numbers filled in (LaTeX)."""
    s = settings_of(view)
    lines = [r"\text{gain} = \mathrm{acc}_{\text{transfer}} - \mathrm{acc}_{\text{scratch}}"]
    if "gain" in numbers:
        lines[0] += (rf" = {numbers['transfer_val_accuracy']:.3f} - "
                     rf"{numbers['scratch_val_accuracy']:.3f} = {numbers['gain']:+.3f}")
    lr3 = s.high_lr if s.recipe == "high_lr" else s.fine_tune_lr
    lines.append(r"W \leftarrow W - \eta\,\hat m / (\sqrt{\hat v} + \epsilon), \quad "
                 rf"\eta = {s.head_lr:g}\ \text{{(phase 2, head)}}, \ "
                 rf"{lr3:g}\ \text{{(phase 3)}}, \ {s.scratch_lr:g}\ \text{{(scratch)}}")
    lines.append(r"\text{BatchNorm (frozen)}: \ y = \gamma \frac{x - \mu_{\text{moving}}}"
                 r"{\sqrt{\sigma^2_{\text{moving}} + \epsilon}} + \beta")
    return lines


def numbers(result) -> dict:
    """The figures of a finished :class:`~cnnviz.training.transfer.TransferResult`, as the
    code's last cell computes them."""
    t, s = result.transfer, result.scratch
    out = {"transfer_val_accuracy": t.final_val_accuracy}
    if s is not None:
        out |= {"scratch_val_accuracy": s.final_val_accuracy,
                "gain": t.final_val_accuracy - s.final_val_accuracy}
    return out
