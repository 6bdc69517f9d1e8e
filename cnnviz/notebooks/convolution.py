"""The code and the maths behind the Convolution page, for one view."""

from __future__ import annotations

import numpy as np

from cnnviz.notebooks.common import image_code, literal
from cnnviz.views import View
from cnnviz.views.convolution import padding_of


def numbers(x, kernel, g, response, pixel, pixel_value, ncc=None, matches=None,
            object_scores=None) -> dict:
    """The page's numbers: what its code prints, what the tests compare. ``g`` is the
    ``conv.geometry`` of the convolution; ``matches`` (``matching.top_matches``) and
    ``object_scores`` come with a patch cut from an image."""
    peak = np.unravel_index(int(np.argmax(response)), response.shape)
    out = {
        "input_hw": [int(n) for n in x.shape[:2]],
        "kernel_hw": [int(n) for n in kernel.shape[:2]],
        "padding_hw": [g.pad_top + g.pad_bottom, g.pad_left + g.pad_right],
        "output_hw": [int(n) for n in response.shape],
        "peak": [int(peak[0]), int(peak[1])],
        "peak_value": round(float(response[peak]), 6),
        "pixel": [int(pixel[0]), int(pixel[1])],
        "pixel_value": round(float(pixel_value), 6),
    }
    if ncc is not None:
        best = np.unravel_index(int(np.argmax(ncc)), ncc.shape)
        out["ncc_peak"] = [int(best[0]), int(best[1])]
        out["ncc_score"] = round(float(ncc[best]), 6)
    if matches is not None:
        out["matches"] = [[m.row, m.col, round(m.score, 6)] for m in matches]
    if object_scores is not None:
        out["object_scores"] = [round(float(v), 6) if np.isfinite(v) else None
                                for v in object_scores]
    return out


def _kernel_code(view: View) -> str:
    if view["kernel"] == "patch":
        k, top, left = view["k"], view["top"], view["left"]
        return (f"# a {k}x{k} patch cut from the first image: rows {top}..{top + k - 1}, "
                f"columns {left}..{left + k - 1}\n"
                f"kernel = cut_from[{top}:{top + k}, {left}:{left + k}].copy()")
    if view["kernel"] == "classic":
        args = [repr(view["classic"])]
        if "ksize" in view:
            args.append(f"size={view['ksize']}")
        if "angle" in view:
            args.append(f"angle={view['angle']}")
        return f"kernel = conv.classic_kernel({', '.join(args)})"
    n = view["n"]
    rows = np.asarray(view["w"], dtype=float).reshape(n, n)
    body = ",\n    ".join("[" + ", ".join(literal(v) for v in row) + "]" for row in rows)
    return f"kernel = np.array([\n    {body},\n])  # typed by hand"


def _images_code(view: View, colour: bool) -> str:
    """The image the kernel slides over (``x``) and, for a patch, the one it is cut from
    (``cut_from``), as the page makes them."""
    as_float = "conv.to_float" if colour else "conv.to_gray"
    what = "float (H, W, 3) in [0, 1]: R, G and B" if colour else \
        "float (H, W) in [0, 1]: luminance"
    head = "# %% The images\nimport numpy as np\n\nfrom cnnviz import conv"
    size = view["size"]
    if view["kernel"] != "patch":
        return (f"{head}\n{image_code(view)}\n"
                f"image = conv.shrink(image, {size})  # longest side at most {size} pixels\n"
                f"x = {as_float}(image)  # {what}\nprint('image', x.shape)")
    if view["pair"] == "shapes":
        made = (f"# the kernel is cut from scene 1 (seed {view['scene']}) and searched in "
                f"scene 2 (seed {view['scene'] + 1}):\n# two {view['target']}s and a "
                f"{view['decoy']}, each with its mask\n"
                f"pair = matching.shape_scenes({view['target']!r}, {view['decoy']!r}, "
                f"seed={view['scene']})")
    elif view["pair"] == "motorcycle":
        made = ("# cut from the left camera's photo, searched in the right camera's\n"
                "pair = matching.stereo_photos()")
    else:
        made = (image_code(view) + "\n# the kernel is searched in the image it is cut from\n"
                "pair = matching.same_image(image, 'the picked image')")
    return (f"{head}, matching\n{made}\n"
            f"pair = matching.shrink_pair(pair, {size})  # longest side at most {size} pixels\n"
            f"cut_from = {as_float}(pair.kernel_image)\n"
            f"x = {as_float}(pair.search_image)  # {what}: the image the kernel slides over\n"
            "print('image', x.shape)")


def code(view: View) -> str:
    """Python that reproduces the view with the ``cnnviz`` API, then checks it against a
    plain Keras ``Conv2D`` layer; its last cell builds ``numbers``, the page's numbers."""
    stride, dilation, padding = view["stride"], view["dil"], padding_of(view)
    knobs = f"stride={stride}, padding={padding!r}, dilation={dilation}"
    colour = view["colour"] == "rgb"
    pixel = "peak" if view["row"] is None else f"({view['row']}, {view['col']})"
    patch = view["kernel"] == "patch"
    parts = [
        _images_code(view, colour),
        "# %% The kernel\n" + _kernel_code(view) + "\nprint('kernel', kernel.shape)",
        "# %% Slide it over the image: the response map\n"
        f"response = conv.convolve(x, kernel, {knobs})\n"
        f"g = conv.geometry(x.shape[:2], kernel.shape[:2], {knobs})\n"
        "print('height:', g.formula(0))\n"
        "print('width: ', g.formula(1))\n"
        "peak = np.unravel_index(np.argmax(response), response.shape)\n"
        "print('peak at', peak, 'value', response[peak])",
        "# %% One output pixel is a weighted sum\n"
        f"row, col = {pixel}\n"
        f"window = conv.window_at(x, kernel, row, col, {knobs})\n"
        "print('inputs rows', window.rows, 'columns', window.cols)\n"
        "print('sum of the products', window.total, '= response', response[row, col])",
    ]
    if patch:
        scored = view["pair"] == "shapes"
        parts.append(
            "# %% Template matching: normalised cross-correlation finds the pattern\n"
            "ncc = conv.match_template(x, kernel)  # stride 1, no padding\n"
            f"matches = matching.top_matches(ncc, {view['matches']}, kernel.shape[:2], "
            "masks=pair.masks)\n"
            "for rank, match in enumerate(matches, 1):\n"
            "    print(rank, 'row', match.row, 'col', match.col, 'score', round(match.score, 2))"
            + ("\n# each object's score: the best window centred on one of its pixels\n"
               "scores = matching.object_scores(ncc, kernel.shape[:2], pair.masks)\n"
               "print(list(zip(pair.objects, scores.round(2))))" if scored else
               "\nscores = None  # a photo has no object masks"))
    parts.append(_keras_code(view, stride, dilation, padding, colour))
    extra = ", ncc, matches, scores" if patch else ""
    parts.append(
        "# %% The numbers on the page\n"
        "from cnnviz.notebooks.convolution import numbers as page_numbers\n\n"
        f"numbers = page_numbers(x, kernel, g, response, (row, col), window.total{extra})\n"
        "print(numbers)")
    return "\n\n".join(parts) + "\n"


def _keras_code(view: View, stride: int, dilation: int, padding, colour: bool) -> str:
    head = "# %% The same response from a Keras Conv2D layer\n"
    if stride > 1 and dilation > 1:
        return (head + "# TensorFlow's Conv2D refuses a stride and a dilation both above 1;\n"
                "# set one of them to 1 to compare with Keras.")
    channels = 3 if colour else 1
    lines = [head + "import keras\n",
             f"inputs = x.reshape(1, *x.shape[:2], {channels}).astype('float32')"]
    if isinstance(padding, int):
        lines.append(f"inputs = keras.layers.ZeroPadding2D({padding})(inputs)  # padding "
                     "by a number: zeros first, then a 'valid' convolution")
        padding = "valid"
    weights = ("kernel.reshape(*kernel.shape[:2], 3, 1)" if view["kernel"] == "patch" and colour
               else f"np.repeat(kernel[:, :, None, None], {channels}, axis=2)")
    lines += [
        f"layer = keras.layers.Conv2D(1, kernel.shape[:2], strides={stride}, "
        f"padding={padding!r},",
        f"                            dilation_rate={dilation}, use_bias=False)",
        f"layer.build((1, None, None, {channels}))",
        f"layer.set_weights([{weights}.astype('float32')])",
        "keras_response = keras.ops.convert_to_numpy(layer(inputs))[0, :, :, 0]",
        "print('Keras output', keras_response.shape, 'largest difference',",
        "      np.abs(keras_response - response).max())",
    ]
    return "\n".join(lines)


def maths(view: View, numbers: dict) -> list[str]:
    """The formulas with the view's numbers filled in (LaTeX)."""
    n_h, n_w = numbers["input_hw"]
    k_h, k_w = numbers["kernel_hw"]
    o_h, o_w = numbers["output_hw"]
    p_h, p_w = numbers["padding_hw"]
    s, d = view["stride"], view["dil"]
    r, c = numbers["pixel"]
    lines = [
        r"o = \left\lfloor \frac{n + p - d\,(k-1) - 1}{s} \right\rfloor + 1",
        rf"o_h = \left\lfloor \frac{{{n_h} + {p_h} - {d}\cdot({k_h}-1) - 1}}{{{s}}} "
        rf"\right\rfloor + 1 = {o_h}",
        rf"o_w = \left\lfloor \frac{{{n_w} + {p_w} - {d}\cdot({k_w}-1) - 1}}{{{s}}} "
        rf"\right\rfloor + 1 = {o_w}",
        rf"y_{{{r},{c}}} = \sum_{{u,v}} K_{{u,v}}\, x_{{{r}\cdot{s} + {d}u,\; {c}\cdot{s} + "
        rf"{d}v}} = {numbers['pixel_value']:.4f}",
    ]
    if "ncc_score" in numbers:
        br, bc = numbers["ncc_peak"]
        lines.append(
            r"\mathrm{ncc} = \frac{\sum (x - \bar x)(K - \bar K)}{\lVert x - \bar x \rVert\,"
            rf"\lVert K - \bar K \rVert}} = {numbers['ncc_score']:.2f} "
            rf"\text{{ at row {br}, column {bc}}}")
    return lines
