"""The app as a whole: layering rules, page set-up, and every page rendering in AppTest."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from cnnviz.ui.navigation import APP_ROOT, PAGES

ROOT = Path(__file__).resolve().parents[1]
PAGE_FILES = [p.path for p in PAGES if p.path != "streamlit_app.py"]
QUESTIONS = [question for page in PAGES for question in page.questions]
CONCEPT_ID = re.compile(r"\bC\d{1,2}\b")  # the design notes' ids, never shown to students
TEXT_ELEMENTS = ("title", "header", "subheader", "markdown", "caption", "info", "success",
                 "warning", "error")


def _python(code: str) -> str:
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout.strip()


def test_import_cnnviz_pulls_in_no_heavy_library():
    heavy = _python("import cnnviz, cnnviz.errors, cnnviz.data, sys; "
                    "print([m for m in ('tensorflow', 'keras', 'streamlit') if m in sys.modules])")
    assert heavy == "[]"


def test_core_never_imports_streamlit():
    offenders = []
    for path in (ROOT / "cnnviz").rglob("*.py"):
        if "ui" in path.relative_to(ROOT / "cnnviz").parts:
            continue
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            if any(name.split(".")[0] == "streamlit" for name in names):
                offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []


def _first_streamlit_call(path: Path) -> str | None:
    """The dotted name of the first call to st.* or ui.* at the top level of a page."""
    tree = ast.parse(path.read_text())
    for statement in tree.body:
        for node in ast.walk(statement):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                owner = node.func.value
                if isinstance(owner, ast.Name) and owner.id in ("st", "ui"):
                    return f"{owner.id}.{node.func.attr}"
    return None


@pytest.mark.parametrize("page", ["streamlit_app.py", *PAGE_FILES])
def test_every_page_calls_page_setup_first(page):
    assert _first_streamlit_call(ROOT / page) == "ui.page_setup"


def test_the_page_list_and_the_pages_folder_agree():
    listed = [p.path for p in PAGES]
    on_disk = {f"pages/{p.name}" for p in (ROOT / "pages").glob("*.py")}
    assert listed[0] == "streamlit_app.py" and (ROOT / listed[0]).is_file()
    assert len(listed) == len(set(listed))
    assert set(listed[1:]) == on_disk, (on_disk - set(listed), set(listed) - on_disk)
    assert APP_ROOT == ROOT


def test_the_page_list_is_in_the_folders_order():
    # Streamlit orders pages/ by their number; the sidebar must tell the same story.
    numbers = [int(Path(path).name.split("_")[0]) for path in PAGE_FILES]
    assert numbers == sorted(numbers)


def test_every_concept_is_a_question_of_one_page():
    keys = [question.key for question in QUESTIONS]
    assert sorted(keys, key=lambda k: int(k[1:])) == [f"C{n}" for n in range(1, 16)]
    for question in QUESTIONS:
        assert question.text.endswith("?"), question
        assert not CONCEPT_ID.search(question.text + question.demo), question


def test_home_renders_without_tensorflow():
    out = _python(
        "from streamlit.testing.v1 import AppTest; import sys\n"
        "at = AppTest.from_file('streamlit_app.py', default_timeout=60).run()\n"
        "assert not at.exception, at.exception\n"
        "print('tensorflow' in sys.modules, len(at.markdown))"
    )
    loaded_tf, markdown_count = out.split()
    assert loaded_tf == "False"
    assert int(markdown_count) > 10


def test_home_lists_concepts_and_model_status():
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=60).run()
    assert not at.exception
    text = " ".join(m.value for m in at.markdown)
    for question in QUESTIONS:
        assert f"**{question.text}**" in text
    assert not CONCEPT_ID.search(text), CONCEPT_ID.findall(text)
    assert not at.error, [e.value for e in at.error]
    assert "**Shapes CNN (built-in, 5 shape classes)** · ready" in text
    assert "**MobileNetV2 (ImageNet, 1000 classes)**" in text
    assert "**Synthetic shapes** · ready" in text


@pytest.mark.parametrize("page", PAGE_FILES)
def test_every_page_renders_from_home(page):
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=180).run()
    at.switch_page(page).run()
    assert not at.exception, at.exception
    assert not [e.value for e in at.error if "Something went wrong" in e.value]
    shown = " ".join(str(element.value) for kind in TEXT_ELEMENTS for element in at.get(kind))
    assert not CONCEPT_ID.search(shown), CONCEPT_ID.findall(shown)


def test_navigation_icons_are_real_material_icons():
    from streamlit.material_icon_names import ALL_MATERIAL_ICONS

    for page in PAGES:
        name = page.icon.removeprefix(":material/").removesuffix(":")
        assert name in ALL_MATERIAL_ICONS, page
