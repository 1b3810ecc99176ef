"""The documentation: the API reference documents every public name once, the guides link
the names they mention, and the site builds without warnings.

The full build (examples executed) is ``bash docs/build.sh``; the build test
here skips running the examples (``-D plot_gallery=0``) to stay fast, and is
skipped where the documentation tools are not installed.
"""

import importlib
import importlib.util
import os
import pkgutil
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import jtt_sklearn

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"


def _load_jtt_docs():
    spec = importlib.util.spec_from_file_location("jtt_docs", DOCS / "_ext" / "jtt_docs.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


jtt_docs = _load_jtt_docs()


def _autosummary_entries(rst):
    """``{module: [names]}`` from the autosummary tables of an API page."""
    entries, module, in_table = {}, None, False
    for line in rst.splitlines():
        if line.startswith(".. currentmodule::"):
            module = line.split("::", 1)[1].strip()
        elif line.startswith(".. autosummary::"):
            in_table = True
            entries.setdefault(module, [])
        elif in_table:
            if line.startswith("   :") or not line.strip():
                continue
            if line.startswith("   "):
                entries[module].append(line.strip())
            else:
                in_table = False
    return entries


def _expected_modules():
    """The package and every public module below it, found independently of jtt_docs."""
    modules = {"jtt_sklearn"}
    for info in pkgutil.walk_packages(jtt_sklearn.__path__, prefix="jtt_sklearn."):
        if not any(part.startswith("_") for part in info.name.split(".")):
            modules.add(info.name)
    return modules


def _exported(modname):
    """``modname.__all__`` less dunder names: ``__version__`` gets no page of its own."""
    return [n for n in importlib.import_module(modname).__all__ if not n.startswith("__")]


def _documented(pages):
    """``[(module, name)]`` of every autosummary entry of every API page."""
    return [
        (mod, name)
        for text in pages.values()
        for mod, names in _autosummary_entries(text).items()
        for name in names
    ]


def test_api_reference_has_one_page_per_public_module():
    pages = jtt_docs.render_api()
    expected = _expected_modules()
    assert {
        "jtt_sklearn.metrics",
        "jtt_sklearn.model_selection",
        "jtt_sklearn.callbacks",
        "jtt_sklearn.datasets",
        "jtt_sklearn.baselines",
        "jtt_sklearn.utils",
        "jtt_sklearn.exceptions",
    } <= expected
    assert set(pages) == {"api.rst"} | {f"api/{m}.rst" for m in expected}
    index = pages["api.rst"]
    assert not _autosummary_entries(index), "the index documents no object itself"
    toctree = index.split(".. toctree::", 1)[1]
    for modname in expected:
        assert f"   api/{modname}\n" in toctree
        # The index shows each module's one-line summary beside its link.
        summary = " ".join(importlib.import_module(modname).__doc__.split("\n\n")[0].split())
        assert f":mod:`{modname}`\n     - {summary[:20]}" in index, modname
        # Each module page documents (or links to) that module's names, and no other module's.
        assert set(_autosummary_entries(pages[f"api/{modname}.rst"])) <= {modname}


def _home(documented, modname, name):
    """The module whose page documents ``modname.name``: itself, or the one page of the same object."""
    if (modname, name) in documented:
        return modname
    obj = getattr(importlib.import_module(modname), name)
    homes = [m for m, n in documented if n == name and getattr(importlib.import_module(m), name) is obj]
    assert len(homes) == 1, f"{modname}.{name} is documented {len(homes)} times: {homes}"
    return homes[0]


def test_every_public_name_is_documented_once():
    pages = jtt_docs.render_api()
    documented = _documented(pages)
    objects = [(name, getattr(importlib.import_module(mod), name)) for mod, name in documented]
    for i, (name, obj) in enumerate(objects):
        twins = [
            documented[j] for j, (other, o) in enumerate(objects) if j != i and other == name and o is obj
        ]
        assert not twins, f"{documented[i]} is documented again as {twins}"
    documented = set(documented)
    for modname in sorted(_expected_modules()):
        page = pages[f"api/{modname}.rst"]
        for name in _exported(modname):
            home = _home(documented, modname, name)
            if home != modname:
                # A re-export: a link to the one page of the same object.
                assert f":obj:`~{home}.{name}`" in page, f"{modname} does not link {name} to {home}"
    # Objects are documented where they are defined: make_groups in utils, the warnings in exceptions.
    assert ("jtt_sklearn.utils", "make_groups") in documented
    assert ("jtt_sklearn.exceptions", "EmptyErrorSetWarning") in documented
    assert ("jtt_sklearn.utils", "UNKNOWN_GROUP") in documented
    assert ("jtt_sklearn", "JTTClassifier") in documented


def test_api_reference_has_no_version_entry():
    pages = jtt_docs.render_api()
    assert "__version__" in jtt_sklearn.__all__
    assert not [entry for entry in _documented(pages) if entry[1].startswith("__")]
    assert not any(":obj:`~jtt_sklearn.__version__`" in text for text in pages.values())


def test_write_api_rst_removes_pages_of_modules_that_are_gone(tmp_path):
    (tmp_path / "api").mkdir()
    (tmp_path / "api" / "jtt_sklearn.gone.rst").write_text("stale", encoding="utf-8")
    jtt_docs.write_api_rst(tmp_path)
    written = {p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*.rst")}
    assert written == set(jtt_docs.render_api())


# Pages whose plain-backtick mentions are not linked yet (edited separately); the
# link check skips them, the check of the links they do have does not.
_GUIDES_NOT_YET_LINKED: set[str] = set()

_FENCE = re.compile(r"^ *(```|~~~).*?^ *\1", re.MULTILINE | re.DOTALL)
_ROLE = re.compile(r"\{(func|class|data|obj|exc|meth|attr|mod)\}`(?:[^`<]*<)?~?([\w.]+)>?`")
# `name`, `name(...)` or `jtt_sklearn.module.name`, in single backticks; not a private path
# (`jtt_sklearn.utils._sampling.UpsamplingDataLoader` names a type to trust, not an API page).
_MENTION = re.compile(r"(?<![`}])`(?:jtt_sklearn(?:\.[a-z]\w*)*\.)?(\w+)(?:\([^`]*\))?`(?!`)")


def _guides():
    return sorted(p for p in DOCS.glob("*.md"))


def _documented_paths():
    """``{name: "module.name"}``: where each public name has its API page."""
    return {name: f"{mod}.{name}" for mod, name in _documented(jtt_docs.render_api())}


def test_guides_link_the_public_names_they_mention():
    paths = _documented_paths()
    unlinked = {}
    for guide in _guides():
        if guide.name in _GUIDES_NOT_YET_LINKED:
            continue
        text = _FENCE.sub("", guide.read_text(encoding="utf-8"))
        linked = {target.rsplit(".", 1)[-1] for _, target in _ROLE.findall(text)}
        mentioned = set(_MENTION.findall(_ROLE.sub("", text))) & set(paths)
        if mentioned - linked:
            unlinked[guide.name] = sorted(mentioned - linked)
    assert not unlinked, (
        "guides mention public names in plain backticks without linking them anywhere on the page; "
        "write e.g. {func}`~jtt_sklearn.metrics.worst_group_accuracy` at the first mention: "
        f"{unlinked}"
    )


def test_guide_links_point_at_documented_objects():
    # Sphinx does not warn about a reference it cannot resolve (nitpicky is off): it shows plain
    # code. A link must name the module whose page documents the object.
    paths = set(_documented_paths().values())
    modules = _expected_modules()
    wrong = []
    for guide in _guides():
        for role, target in _ROLE.findall(_FENCE.sub("", guide.read_text(encoding="utf-8"))):
            if role == "mod":
                ok = target in modules
            elif role in ("meth", "attr"):
                ok = target.rsplit(".", 1)[0] in paths
            else:
                ok = target in paths
            if not ok:
                wrong.append(f"{guide.name}: {{{role}}}`{target}`")
    assert not wrong, wrong


def test_the_link_check_sees_a_plain_mention():
    text = "Use `worst_group_accuracy` or `make_groups(y, a)`; {func}`~jtt_sklearn.utils.make_groups`."
    assert set(_MENTION.findall(_ROLE.sub("", text))) == {"worst_group_accuracy", "make_groups"}
    assert {t for _, t in _ROLE.findall(text)} == {"jtt_sklearn.utils.make_groups"}


def test_every_public_module_declares_all():
    # The API page is generated from __all__; a public module without it would
    # fall back to guessing its names.
    for modname in sorted(_expected_modules()):
        module = importlib.import_module(modname)
        assert hasattr(module, "__all__"), f"{modname} has no __all__"
        for name in module.__all__:
            assert hasattr(module, name), f"{modname}.__all__ lists {name!r}, which it lacks"


def test_api_page_is_generated_by_the_build_not_by_hand():
    conf = (DOCS / "conf.py").read_text(encoding="utf-8")
    assert "jtt_docs.write_api_rst(DOCS)" in conf
    # Everything builds offline: no inventories or remote resources fetched.
    assert "intersphinx_mapping" not in conf and "sphinx.ext.intersphinx" not in conf
    assert (DOCS / "_templates" / "autosummary" / "class.rst").is_file()


def test_getting_started_includes_the_readme_commands():
    # getting_started.md includes the README's sections between these markers.
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    page = (DOCS / "getting_started.md").read_text(encoding="utf-8")
    for marker in [
        "## Set up and run",
        "## Quickstart",
        "Choose `T` and `lambda_up` by worst-group validation accuracy",
    ]:
        assert marker in readme, f"README.md lost the heading {marker!r} that the docs include"
        assert marker in page
    assert 'pip install -e ".[plot]" && python -m jtt_sklearn demo' in readme


def test_gallery_reset_switches_metadata_routing_off():
    import sklearn

    before = sklearn.get_config()
    try:
        jtt_docs.reset_sklearn_config({}, "before")
        sklearn.set_config(enable_metadata_routing=True, assume_finite=True)
        jtt_docs.reset_sklearn_config({}, "after")
        assert sklearn.get_config()["enable_metadata_routing"] is False
        assert sklearn.get_config()["assume_finite"] is before["assume_finite"]
    finally:
        sklearn.set_config(**before)


def test_the_stages_figure_is_committed():
    assert (DOCS / "img" / "jtt_stages.png").stat().st_size > 10_000
    assert "img/jtt_stages.png" in (DOCS / "user_guide.md").read_text(encoding="utf-8")


def _copy_sources(dest):
    ignore = shutil.ignore_patterns(
        "_build", "generated", "auto_examples", "api.rst", "api", "sg_execution_times.rst", "__pycache__"
    )
    shutil.copytree(DOCS, dest / "docs", ignore=ignore)
    shutil.copytree(ROOT / "examples", dest / "examples", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "README.md", dest / "README.md")


def test_docs_build_without_warnings(tmp_path):
    for module in ["sphinx", "numpydoc", "sphinx_gallery", "myst_parser", "pydata_sphinx_theme"]:
        pytest.importorskip(module)
    # A copy of the sources, so that the build writes nothing into the checkout.
    _copy_sources(tmp_path)
    out = tmp_path / "html"
    env = dict(
        os.environ,
        HF_HUB_OFFLINE="1",
        TRANSFORMERS_OFFLINE="1",
        MPLBACKEND="Agg",
        PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
    )
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "sphinx",
            "-W",
            "--keep-going",
            "-b",
            "html",
            "-q",
            "-D",
            "plot_gallery=0",
            "-d",
            str(tmp_path / "doctrees"),
            str(tmp_path / "docs"),
            str(out),
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-8000:]

    pages = [
        "index",
        "getting_started",
        "user_guide",
        "model_selection",
        "diagnostics",
        "datasets",
        "integrations",
        "results",
        "api",
        "troubleshooting",
        "changelog",
        "auto_examples/index",
    ]
    pages += [f"api/{modname}" for modname in sorted(_expected_modules())]
    for page in pages:
        assert (out / f"{page}.html").is_file(), page
    api = (out / "api.html").read_text(encoding="utf-8")
    documented = set(_documented(jtt_docs.render_api()))
    for modname in sorted(_expected_modules()):
        assert f'href="api/{modname}.html' in api, modname
        page = (out / "api" / f"{modname}.html").read_text(encoding="utf-8")
        for name in _exported(modname):
            # Documented here, or a link to the page of the module that documents it.
            home = _home(documented, modname, name)
            assert f'href="../generated/{home}.{name}.html' in page, f"{modname}.{name}"
            assert (out / "generated" / f"{home}.{name}.html").is_file()
    # One page per documented object, and none for __version__.
    assert {p.stem for p in (out / "generated").glob("*.html")} == {f"{m}.{n}" for m, n in documented}
    for example in sorted((ROOT / "examples").glob("plot_*.py")):
        assert (out / "auto_examples" / f"{example.stem}.html").is_file(), example.name
    # Offline: no page loads an image, a script or a stylesheet from the network.
    remote = re.compile(r"<(img|script|link)[^>]+(src|href)=\"(https?:)?//")
    for html in out.rglob("*.html"):
        match = remote.search(html.read_text(encoding="utf-8"))
        assert match is None, f"{html.relative_to(out)} loads {match.group(0)!r}"
    assert "jtt_stages.png" in (out / "user_guide.html").read_text(encoding="utf-8")
