"""Filters: gradient ascent on the input shows what a filter responds to."""

import streamlit as st

from cnnviz import filters, models, probe, questions, receptive, ui
from cnnviz.figures import activations as activation_figures
from cnnviz.notebooks.filters import numbers as page_numbers
from cnnviz.ui import filters as helpers
from cnnviz.views import filters as spec

ui.page_setup("Filters")

THUMBNAIL = 180  # px: the smallest optimised image a class can read

view = ui.page_view("filters", prefix="flt_")
name = ui.model_picker()
choice = ui.image_picker(default_source="Synthetic shape")

page = ui.page_layout(
    "What pattern makes a filter fire?",
    "Start from random noise and **change the image** by gradient *ascent*: step after "
    "step, move every pixel in the direction that raises one filter's mean activation. "
    "What appears is the pattern that filter looks for. Many filters are optimised at "
    "once, one image each.")

result = kernels = None
fields: dict = {}
with ui.guard("the filter visualisation"):
    model = ui.get_model(name)
    view.settle(**spec.facts(model, name))
    context = view.context
    labels = {i.name: i.label for i in probe.feature_layers(model)}
    with page.controls:
        c1, c2, c3 = st.columns(3)
        layer = c1.selectbox("Layer", context["layers"], format_func=labels.get,
                             **view.widget("layer", key=f"flt_layer_{name}"))
        channels = context["channels"][layer]
        how = c2.radio("Filters", list(spec.HOW), horizontal=True, format_func=spec.HOW.get,
                       **view.widget("how"))
        most = spec.most_filters(context, {"layer": layer})
        count = c3.slider("How many", 1, most, **view.widget("n", key=f"flt_count_{name}"))
        if how == "range":
            first = c2.number_input("First filter", 0, channels - 1, **view.widget("first"))
            indices = tuple(range(int(first), min(channels, int(first) + count)))
        else:
            x = models.prepare(name, choice.image).x
            indices = tuple(helpers.top_filters(name, x, layer, count))
            c2.caption(f"on “{choice.name}”: filters {', '.join(map(str, indices))}")

        with st.expander("Gradient ascent settings: steps, learning rate, regularisers",
                         icon=":material/tune:"), st.form("flt_settings", border=False):
            f1, f2, f3, f4 = st.columns(4)
            steps = f1.slider("Steps", 5, 200, step=5, **view.widget("steps"))
            lr = f1.select_slider("Learning rate", spec.LEARNING_RATES, **view.widget("lr"))
            seed = f1.number_input("Seed", 0, 9999, **view.widget("aseed"))
            fourier = f2.toggle("Fourier image", help="Optimise a colour-decorrelated "
                                "spectrum scaled by 1/frequency, in the colour axes of natural "
                                "photos: smooth, large patterns first.", **view.widget("fourier"))
            jitter = f2.slider("Jitter (pixels, pad and crop)", 0, 8, **view.widget("jitter"))
            scale = f3.slider("Random zoom ±", 0.0, 0.2, step=0.01, **view.widget("rzoom"))
            rotate = f3.slider("Random rotation ± (degrees)", 0.0, 20.0, step=1.0,
                               **view.widget("rrot"))
            blur_every = f3.slider("Blur every k steps (0 = never)", 0, 10,
                                   **view.widget("blur"))
            blur_sigma = f4.slider("Blur sigma (pixels)", 0.3, 2.0, step=0.1,
                                   **view.widget("sigma"))
            tv = f4.select_slider("Total variation weight", spec.WEIGHTS, **view.widget("tv"))
            l2 = f4.select_slider("L2 decay weight", spec.WEIGHTS, **view.widget("l2"))
            st.form_submit_button("Run gradient ascent", type="primary")
        regs = tuple(filters.with_regularizers(
            jitter=jitter, scale=scale, rotate=rotate, tv=tv, l2=l2, blur_every=blur_every,
            blur_sigma=blur_sigma, fourier=fourier).items())
        request = (name, layer, indices, int(steps), float(lr), int(seed), regs)
        times = helpers.continued(view, request)
        st.button(f"Continue {steps} more steps from these images", key="flt_more",
                  on_click=helpers.continue_once, disabled=times >= spec.MOST_CONTINUED)
        fields = helpers.receptive_fields_of(name)
        if layer in fields:
            rf = fields[layer]
            if ui.ask(questions.number(
                    "flt_rf", f"A unit of {layer} looks at a square patch of the input, and "
                    "the pattern its filter wants must fit inside it. How many pixels wide is "
                    "that patch?", unit="pixels"),
                    questions.Measured(rf.size, why=(
                        f"the receptive field grows through the layers up to {layer}, "
                        f"{receptive.size_chain(list(fields.values()), layer)}"))):
                st.caption(f"So each image repeats patterns at most {rf.size} pixels wide, "
                           f"one every {rf.jump} pixels (the layer's stride in input pixels).")

    schedule = (int(steps),) * (times + 1)
    with page.figure:
        view.bar()
        result = helpers.run(name, layer, indices, schedule, float(lr), int(seed), regs)
        summary = filters.summarise_ascent(result.history, result.filter_indices)
        st.subheader(f"{layer}: {len(indices)} filters after {result.steps_done} steps")
        cols = ui.grid_columns(THUMBNAIL, len(indices))
        for row in range(0, len(indices), cols):
            for col, i in zip(st.columns(cols), range(row, min(row + cols, len(indices)))):
                f = result.filter_indices[i]
                col.image(result.images[i], width="stretch", output_format="PNG",
                          caption=f"filter {f}"
                          + (" · never fired" if f in summary.never_fired else ""))
        st.caption(f"Settings: model {name}, layer {layer}, image {result.params.shape[1]}×"
                   f"{result.params.shape[2]} (the model's input size when it is fixed), "
                   f"learning rate {lr:g}, seed {seed}, steps {' + '.join(map(str, schedule))}.")

    if summary.never_fired:
        st.info(f"Filters {', '.join(map(str, summary.never_fired))} never fired: their ReLU "
                "output was 0 on the start image, so the gradient was 0 and nothing changed. "
                "Try another seed, or more jitter.", icon=":material/info:")
    st.subheader("Did the filters respond more and more?")
    if ui.ask(questions.choice(
            "flt_rise", f"Over the {result.steps_done} steps, what happens to the median "
            "filter's mean activation?", filters.ASCENT_TRENDS),
            questions.Measured(summary.trend, why=(
                f"the median went from {summary.start:.3g} on noise to {summary.end:.3g}; "
                f"a change under {filters.RISE_SHARE:.0%} counts as the same"))):
        st.plotly_chart(activation_figures.activation_curves_figure(
            result.history, result.filter_indices), width="stretch")
        ui.explain(filters.describe_ascent(summary, len(indices)))

with ui.guard("the first layer's kernels"):
    kname, kernels = helpers.kernels_of(name)
    st.subheader("The first layer needs no optimisation: its weights are pictures")
    ui.explain(
        f"The first convolution (**{kname}**) works on RGB pixels, so each kernel "
        f"({kernels.shape[1]}×{kernels.shape[2]}×3) *is* a tiny colour image: grey = 0, "
        "brighter = a positive weight for that colour.",
        "Deeper kernels mix dozens of channels and cannot be drawn like this; for them we "
        "use gradient ascent above.")
    st.image(helpers.kernel_picture(kernels),
             width="stretch" if len(kernels) >= 8 else 66 * len(kernels),
             caption=f"{len(kernels)} kernels of {kname}", output_format="PNG")

view.publish()
if result is not None:
    view.take_home(page_numbers(result, fields.get(result.layer_name)), {
        "images": result.images, "activation_per_step": result.history,
        "filter_indices": list(result.filter_indices),
        **({"first_layer_kernels": kernels} if kernels is not None else {})})
