"""Update latency of the Convolution page's maths on a 512x512 image.

Times cnnviz.conv.convolve / match_template against references measured in the
same run (scipy.signal.correlate2d summed over channels, then subsampled for
stride/dilation; skimage.feature.match_template), prints a table with ratios and
writes benchmarks/results/conv.json.

    .venv/bin/python benchmarks/bench_conv.py [--repeats 5]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from anywhere

from scipy.signal import correlate2d  # noqa: E402
from skimage.feature import match_template as sk_match_template  # noqa: E402

from cnnviz import conv  # noqa: E402
from cnnviz.figures import maps  # noqa: E402

SIZE = 512


def _best_ms(fn, repeats: int) -> float:
    fn()  # warm-up
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return 1000 * min(times)


def _scipy_ref(image, kernel, stride, dilation):
    """correlate2d per channel with the dilated kernel, summed, then every s-th pixel."""
    kh, kw, c = kernel.shape
    dil = np.zeros((dilation * (kh - 1) + 1, dilation * (kw - 1) + 1, c))
    dil[::dilation, ::dilation] = kernel
    total = sum(correlate2d(image[..., i], dil[..., i], mode="valid") for i in range(c))
    return total[::stride, ::stride]


def _page_rerun_row(repeats: int) -> dict:
    from streamlit.testing.v1 import AppTest

    root = Path(__file__).resolve().parents[1]
    times = {}
    for size in (512, 256):
        at = AppTest.from_file(str(root / "streamlit_app.py"), default_timeout=120).run()
        at.switch_page("pages/1_Convolution.py").run()
        at.radio(key="image_source").set_value("Sample photo").run()
        at.selectbox(key="image_sample").set_value("astronaut").run()
        at.radio(key="conv_colour").set_value("rgb").run()
        at.radio(key="conv_kernel").set_value("classic").run()
        at.selectbox(key="conv_classic").set_value("Sobel x").run()
        at.select_slider(key="conv_size").set_value(size).run()
        assert not at.exception
        assert any(f"{size}x{size} pixels" in c.value for c in at.caption), size
        best = float("inf")
        for i in range(repeats):
            t0 = time.perf_counter()
            at.slider(key="conv_stride").set_value(2 if i % 2 == 0 else 1).run()
            best = min(best, time.perf_counter() - t0)
        assert not at.exception
        times[size] = 1000 * best
    return {"case": "page rerun, colour Sobel x (AppTest, server)", "cnnviz_ms": times[512],
            "reference": "the same page at 256x256", "reference_ms": times[256]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    colour = rng.random((SIZE, SIZE, 3))
    grey = colour.mean(axis=2)[..., None]
    cases = [
        # name, image, kernel size, stride, dilation
        ("grey 3x3", grey, 3, 1, 1),
        ("colour 3x3", colour, 3, 1, 1),
        ("colour 7x7", colour, 7, 1, 1),
        ("colour 7x7 stride 2", colour, 7, 2, 1),
        ("colour 5x5 dilation 2", colour, 5, 1, 2),
        ("grey 31x31 patch", grey, 31, 1, 1),
        ("colour 64x64 patch", colour, 64, 1, 1),
    ]
    rows = []
    for name, image, k, stride, dilation in cases:
        kernel = rng.normal(size=(k, k, image.shape[2]))
        ours = conv.convolve(image, kernel, stride=stride, dilation=dilation)
        ref = _scipy_ref(image, kernel, stride, dilation)
        assert np.allclose(ours, ref, atol=1e-7), name
        reps = args.repeats if k < 31 else max(1, args.repeats // 2)
        t_ours = _best_ms(lambda i=image, kk=kernel, s=stride, d=dilation: conv.convolve(
            i, kk, stride=s, dilation=d), reps)
        t_ref = _best_ms(lambda i=image, kk=kernel, s=stride, d=dilation: _scipy_ref(
            i, kk, s, d), 1 if k >= 31 else reps)
        rows.append({"case": f"convolve {name}", "cnnviz_ms": t_ours,
                     "reference": "scipy.signal.correlate2d", "reference_ms": t_ref})
    for name, image, k in [("grey 32x32", grey[..., 0], 32),
                           ("colour 48x48", colour, 48)]:
        template = image[100 : 100 + k, 200 : 200 + k].copy()
        assert np.allclose(conv.match_template(image, template),
                           sk_match_template(image, template).squeeze(), atol=1e-6)
        t_ours = _best_ms(lambda i=image, t=template: conv.match_template(i, t), args.repeats)
        t_ref = _best_ms(lambda i=image, t=template: sk_match_template(i, t), args.repeats)
        rows.append({"case": f"match_template {name}", "cnnviz_ms": t_ours,
                     "reference": "skimage.feature.match_template", "reference_ms": t_ref})

    # one update of the Convolution page at 512x512: the maths and the figures sent to
    # the browser (maps as PNG) vs the same maps as a plain go.Heatmap (numbers in JSON)
    import plotly.graph_objects as go

    image = colour[..., 0]
    patch = image[200:215, 300:315].copy()

    def page_update(png: bool) -> int:
        response = conv.convolve(image, patch)
        ncc = conv.match_template(image, patch)
        conv.window_at(image, patch, 10, 10)
        size = 0
        for m in (response, ncc):
            fig = (maps.map_figure(m, peak=True) if png
                   else go.Figure(go.Heatmap(z=m, colorscale="RdBu_r")))
            size += len(fig.to_json())
        return size

    sizes = {png: page_update(png) for png in (True, False)}
    t_ours = _best_ms(lambda: page_update(True), args.repeats)
    t_ref = _best_ms(lambda: page_update(False), args.repeats)
    rows.append({"case": "page update: 15x15 patch, raw + NCC maps", "cnnviz_ms": t_ours,
                 "reference": "same maths, maps as go.Heatmap JSON", "reference_ms": t_ref,
                 "cnnviz_bytes": sizes[True], "reference_bytes": sizes[False]})

    # the whole Convolution page rerun (server side, Streamlit AppTest) when a slider
    # moves, at 512 vs at 256 pixels; a Sobel kernel, colour, stride toggling 1 <-> 2
    rows.append(_page_rerun_row(args.repeats))

    print(f"cnnviz conv benchmark, {SIZE}x{SIZE} image, best of {args.repeats} "
          f"({datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {platform.machine()}, "
          f"{os.cpu_count()} CPUs, numpy {np.__version__})")
    print(f"{'case':42s} {'cnnviz ms':>10s} {'ref ms':>10s} {'ref/cnnviz':>10s}  reference")
    for r in rows:
        r["speedup"] = r["reference_ms"] / r["cnnviz_ms"]
        print(f"{r['case']:42s} {r['cnnviz_ms']:10.1f} {r['reference_ms']:10.1f} "
              f"{r['speedup']:10.2f}  {r['reference']}")
        if "cnnviz_bytes" in r:
            print(f"{'':42s} figures sent: {r['cnnviz_bytes'] / 1e6:.2f} MB vs "
                  f"{r['reference_bytes'] / 1e6:.2f} MB")
    out = Path(__file__).parent / "results" / "conv.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({
        "benchmark": "conv",
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()} {platform.processor() or ''}".strip(),
        "cpus": os.cpu_count(),
        "settings": {"image": f"{SIZE}x{SIZE}", "repeats": args.repeats, "dtype": "float64",
                     "timing": "best of repeats, after one warm-up call"},
        "results": rows,
    }, indent=2))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
