"""cnnviz: build, train and probe real Keras CNNs to see how they work.

Importing the package is cheap: no TensorFlow, Keras or Streamlit is imported
here. Modules that need them import them themselves, so a notebook or the home
page that only needs numpy stays fast.
"""

__version__ = "0.1.0"
