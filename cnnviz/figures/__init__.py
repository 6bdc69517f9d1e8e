"""Every Plotly figure of the app, drawn with one projector-readable template.

Compute modules return arrays and dataclasses; pages pass them to a builder
here and render the figure. :mod:`~cnnviz.figures.theme` holds the template
(font sizes, margins, colour scales with one meaning each); build new figures
with it. By topic:

- :mod:`~cnnviz.figures.maps`: response maps and images with a colour bar, small
  number grids, colour legends, tiled pictures.
- :mod:`~cnnviz.figures.activations`: feature-map grids, statistics against depth,
  activation curves of filter visualisation.
- :mod:`~cnnviz.figures.architecture`: the 1x1 convolution, channel tiles, inception
  concatenation; :mod:`~cnnviz.figures.diagram`: architecture diagrams.
- :mod:`~cnnviz.figures.residual`: plain vs residual gradients and losses.
- :mod:`~cnnviz.figures.training`: learning curves, frozen/trainable parameters.
- :mod:`~cnnviz.figures.receptive`: receptive fields and shift probes.
- :mod:`~cnnviz.figures.attribution`: Grad-CAM's steps and its sanity checks.

Importing this package imports nothing heavy; each builder imports Plotly itself.
"""
