"""Sphinx configuration of the jtt-sklearn documentation.

Build (offline, warnings are errors, examples executed): ``bash docs/build.sh``.
Fast build without running the examples: add ``-D plot_gallery=0``.
"""

import inspect
import os
import sys
import warnings
from pathlib import Path

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(DOCS / "_ext"))

import jtt_sklearn  # noqa: E402
import jtt_docs  # noqa: E402

# The API reference (api.rst and a page per public module under api/) lists every
# name of every __all__; regenerate it on every build so that new modules and names
# appear by themselves.
jtt_docs.write_api_rst(DOCS)

# Examples and docstrings must not reach the network.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
# Examples draw with matplotlib; no display here.
os.environ.setdefault("MPLBACKEND", "Agg")

# -- Project -----------------------------------------------------------------

project = "jtt-sklearn"
author = "jtt-sklearn developers"
copyright = "jtt-sklearn developers"
release = jtt_sklearn.__version__
version = release

# -- General -----------------------------------------------------------------

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
    "myst_parser",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
templates_path = ["_templates"]
exclude_patterns = [
    "_build",
    "_scripts",
    "_ext",
    "Thumbs.db",
    ".DS_Store",
    "auto_examples/*.ipynb",
    "auto_examples/*.py",
    "auto_examples/**/*.ipynb",
    "auto_examples/**/*.py",
    "auto_examples/*.zip",
    "auto_examples/**/*.zip",
    "sg_execution_times.rst",
]
# Everything is built offline: no intersphinx, no remote images or badges.
suppress_warnings = []
nitpicky = False
default_role = "literal"
pygments_style = "sphinx"

# -- autodoc / autosummary / numpydoc ------------------------------------------

autosummary_generate = True
autosummary_imported_members = True
autosummary_ignore_module_all = False
autodoc_default_options = {"members": False, "inherited-members": False}
autodoc_typehints = "none"
autodoc_member_order = "groupwise"
add_module_names = False

numpydoc_show_class_members = False
numpydoc_show_inherited_class_members = False
numpydoc_class_members_toctree = False
numpydoc_attributes_as_param_list = True
numpydoc_xref_param_type = False

# -- MyST (the Markdown pages) -------------------------------------------------

myst_enable_extensions = ["colon_fence", "deflist"]
myst_heading_anchors = 3

# -- sphinx-gallery --------------------------------------------------------------

sphinx_gallery_conf = {
    "examples_dirs": str(ROOT / "examples"),
    "gallery_dirs": "auto_examples",
    # Only plot_*.py scripts are executed; the others are rendered without output.
    "filename_pattern": r"/plot_",
    "ignore_pattern": r"__init__\.py",
    "within_subsection_order": "FileNameSortKey",
    "image_scrapers": ("matplotlib",),
    # Each example starts from scikit-learn's default configuration (one
    # example switches metadata routing on) and with no open figure.
    "reset_modules": ("matplotlib", "jtt_docs.reset_sklearn_config"),
    "reset_modules_order": "both",
    "capture_repr": (),
    "abort_on_example_error": True,
    "only_warn_on_example_error": False,
    "download_all_examples": False,
    "show_signature": False,
    "remove_config_comments": True,
    # Links from the example code to the API pages, and "examples using
    # this name" on each API page.
    "doc_module": ("jtt_sklearn",),
    "reference_url": {"jtt_sklearn": None},
    "backreferences_dir": "generated/backreferences",
    "inspect_global_variables": False,
    "min_reported_time": 1,
    # Its timing pages load jQuery and DataTables from CDNs; the times are printed
    # at the end of every example anyway.
    "write_computation_times": False,
}

# Examples print progress of their own; torch and skorch warnings would show in the pages.
warnings.filterwarnings("ignore", category=UserWarning, message="Matplotlib is currently using agg")

# -- HTML ------------------------------------------------------------------------

html_theme = "pydata_sphinx_theme"
html_title = f"jtt-sklearn {release}"
html_static_path = []
html_show_sourcelink = False
html_copy_source = False
html_last_updated_fmt = None
html_theme_options = {
    "navbar_align": "left",
    "show_toc_level": 2,
    "navigation_with_keys": False,
    "secondary_sidebar_items": ["page-toc"],
    "footer_start": ["copyright"],
    "footer_end": ["sphinx-version"],
    "show_prev_next": True,
    "header_links_before_dropdown": 4,
    # No icon links or version switcher: nothing is fetched, built or shown from the network.
    "icon_links": [],
}
# No left sidebar on pages without sub-pages (it would be empty); the API
# reference keeps it: it lists the module pages and each module's objects.
html_sidebars = {
    page: []
    for page in [
        "index",
        "getting_started",
        "user_guide",
        "model_selection",
        "diagnostics",
        "persistence",
        "datasets",
        "results",
        "troubleshooting",
        "changelog",
    ]
}


# -- Temporary docstring workaround ----------------------------------------------


def _describe_plain_values(app, what, name, obj, options, lines):
    """Show a constant's value rather than its type's docstring.

    ``jtt_sklearn.__version__`` is a ``str`` without a docstring of its own,
    so autodoc would show ``str``'s (``str(object='') -> str ...``).
    """
    if what not in ("data", "attribute") or isinstance(obj, type) or callable(obj):
        return
    type_doc = inspect.cleandoc(type(obj).__doc__ or "")
    if type_doc and "\n".join(lines).strip() == type_doc:
        value = repr(obj)
        lines[:] = [f"Value: ``{value if len(value) <= 70 else value[:67] + '...'}``."]


def setup(app):
    # Before numpydoc (priority 500) turns the sections into reST.
    app.connect("autodoc-process-docstring", _describe_plain_values, priority=400)
