"""``python -m cnnviz.views``: write docs/views.md from the page specs."""

from pathlib import Path

from cnnviz.views import docs

path = Path(__file__).resolve().parents[2] / "docs" / "views.md"
path.parent.mkdir(exist_ok=True)
path.write_text(docs())
print(f"wrote {path}")
