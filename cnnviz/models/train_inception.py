"""Train the small inception network ``shapes_inception`` and save its weights (run once).

    python -m cnnviz.models.train_inception

The same recipe and seeds as ``train_builtin`` (synthetic ``make_shapes``
train/validation/test sets, the test set from a seed the training never saw; Adam
with a cosine-decayed learning rate on a from-logits cross-entropy). Writes
``cnnviz/models/weights/shapes_inception.weights.h5`` and ``shapes_inception.json``
with the measured test accuracy, the settings, seeds, timing, date and machine.
"""

from __future__ import annotations

from cnnviz.models.train_builtin import arguments, save, train_on_shapes


def main(argv=None) -> dict:
    args = arguments(argv, __doc__.splitlines()[0], lr=3e-3)
    from cnnviz import architecture
    from cnnviz.models import inception

    model, run = train_on_shapes(inception.build_shapes_inception, args)
    print(f"test accuracy {run.test_accuracy:.4f} (loss {run.test_loss:.3f}) on {args.test} "
          f"fresh images; training {run.train_seconds:.0f} s", flush=True)
    shipped = inception.build_shapes_inception()  # uncompiled: no optimizer state in the file
    shipped.set_weights(model.get_weights())
    return save(shipped, args.out or str(inception.WEIGHTS_PATH), args, run,
                name=inception.NAME,
                measured={"check_accuracy": round(inception.check_accuracy(model), 4),
                          "check_set": f"make_shapes({inception.CHECK_SIZE}, "
                                       f"seed={inception.CHECK_SEED})"},
                architecture={"layers": architecture.spec_to_dicts(inception.SPEC),
                              "params": int(model.count_params())})


if __name__ == "__main__":
    main()
