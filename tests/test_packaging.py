"""The package as a user gets it: the sdist and wheel build, pass ``twine check``, and install and run.

The wheel is built from the sdist (``python -m build``'s default), so a file the
sdist forgets fails here too. The build runs without isolation (no network: the
installed setuptools is used) on a copy of the sources, so nothing is written
into the checkout. The wheel is installed with ``--no-deps`` into a venv that
sees the site-packages of the interpreter running the tests (the system's, or
the user's venv's), so torch and scikit-learn are not fetched.
"""

import email
import importlib.util
import os
import shutil
import site
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

_INSTALL_HINT = 'install the dev extra: pip install -e ".[dev]" (it brings build and twine)'

_IGNORE = shutil.ignore_patterns(
    ".git", "build", "dist", "*.egg-info", "__pycache__", ".venv", ".pytest_cache",
    "_build", "generated", "auto_examples", "*.png",
)


def _require(module):
    if importlib.util.find_spec(module) is None:
        pytest.fail(f"{module} is not installed: {_INSTALL_HINT}", pytrace=False)


def _require_setuptools():
    # The build runs without isolation, so with the installed setuptools; PEP 639's license fields
    # need 77. A fresh venv has 65 (Python 3.11) or none (3.12 and later).
    from importlib.metadata import PackageNotFoundError, version

    from packaging.version import Version

    try:
        installed = version("setuptools")
    except PackageNotFoundError:
        installed = None
    if installed is None or Version(installed) < Version("77"):
        pytest.fail(
            f"the wheel is built without isolation and needs setuptools>=77; found {installed}. "
            'Run pip install -U "setuptools>=77"',
            pytrace=False,
        )


def _run(args, **kwargs):
    result = subprocess.run(args, capture_output=True, text=True, timeout=300, **kwargs)
    assert result.returncode == 0, f"{args} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return result.stdout


@pytest.fixture(scope="module")
def dists(tmp_path_factory):
    _require("build")
    _require("twine")
    _require_setuptools()
    tmp = tmp_path_factory.mktemp("packaging")
    src = tmp / "src"
    shutil.copytree(ROOT, src, ignore=_IGNORE)
    # The docs' images are sources, not outputs: copy them back.
    shutil.copytree(ROOT / "docs" / "img", src / "docs" / "img", dirs_exist_ok=True)
    out = tmp / "dist"
    _run([sys.executable, "-m", "build", "--no-isolation", "--outdir", str(out), str(src)])
    (wheel,) = out.glob("*.whl")
    (sdist,) = out.glob("*.tar.gz")
    return tmp, wheel, sdist


def test_twine_check_passes_on_the_sdist_and_the_wheel(dists):
    _, wheel, sdist = dists
    output = _run([sys.executable, "-m", "twine", "check", "--strict", str(wheel), str(sdist)])
    assert output.count("PASSED") == 2, output


def test_wheel_holds_the_package_and_py_typed_but_no_tests(dists):
    _, wheel, _ = dists
    names = zipfile.ZipFile(wheel).namelist()
    assert "jtt_sklearn/py.typed" in names
    assert "jtt_sklearn/datasets/__init__.py" in names and "jtt_sklearn/__main__.py" in names
    top_level = {name.split("/")[0] for name in names}
    assert top_level == {"jtt_sklearn", wheel.name.split("-py3")[0] + ".dist-info"}, top_level
    assert not [name for name in names if "/tests/" in name or name.startswith("tests/")]
    assert not [name for name in names if "__pycache__" in name or name.endswith(".pyc")]
    # Every module of the source package is in the wheel.
    sources = {p.relative_to(ROOT).as_posix() for p in (ROOT / "jtt_sklearn").rglob("*.py")}
    assert sources <= set(names), sorted(sources - set(names))


def test_wheel_metadata_is_complete(dists):
    _, wheel, _ = dists
    with zipfile.ZipFile(wheel) as archive:
        (meta_name,) = [n for n in archive.namelist() if n.endswith(".dist-info/METADATA")]
        meta = email.message_from_bytes(archive.read(meta_name))
        assert any(n.endswith(".dist-info/licenses/LICENSE") for n in archive.namelist())
    assert meta["License-Expression"] == "BSD-3-Clause"
    assert meta["Description-Content-Type"] == "text/markdown"
    assert "# jtt-sklearn" in meta.get_payload()  # the README is the long description
    assert meta["Author"] == "jtt-sklearn developers"
    assert meta["Keywords"]
    classifiers = meta.get_all("Classifier")
    for prefix in ["Development Status ::", "Intended Audience ::", "Programming Language :: Python :: 3.",
                   "Topic :: Scientific/Engineering :: Artificial Intelligence", "Typing :: Typed"]:
        assert any(c.startswith(prefix) for c in classifiers), prefix
    urls = dict(u.split(", ", 1) for u in meta.get_all("Project-URL"))
    assert {"Homepage", "Documentation", "Source", "Issues"} <= set(urls)
    assert all(u.startswith("https://github.com/jtt-sklearn/jtt-sklearn") for u in urls.values())
    # Lower bounds only: an exact pin would break users' environments.
    specs = [r.split(";")[0] for r in meta.get_all("Requires-Dist")]
    assert specs and all(">=" in s for s in specs), specs
    assert not [s for s in specs if "==" in s or "<" in s], specs


def test_sdist_carries_the_license_and_a_complete_test_suite(dists):
    _, _, sdist = dists
    with tarfile.open(sdist) as archive:
        names = {name.split("/", 1)[1] for name in archive.getnames() if "/" in name}
    assert {"LICENSE", "README.md", "pyproject.toml", "jtt_sklearn/py.typed"} <= names
    # The tests' helpers travel with the tests, so that pytest runs from the unpacked sdist.
    tests = {p.relative_to(ROOT).as_posix() for p in (ROOT / "tests").glob("*.py")}
    assert tests <= names, sorted(tests - names)
    assert not [name for name in names if name.startswith(("docs/_build", "docs/generated"))]


_QUICKSTART = """\
import jtt_sklearn
from sklearn.linear_model import LogisticRegression
from jtt_sklearn import JTTClassifier
from jtt_sklearn.datasets import load_colored_digits
from jtt_sklearn.metrics import group_report

print("IMPORTED FROM", jtt_sklearn.__file__)
data = load_colored_digits()
(X, y, _), _, (X_test, y_test, g_test) = data
jtt = JTTClassifier(LogisticRegression(max_iter=1000), T=1, lambda_up=50).fit(X, y)
print("ERROR SET", jtt.error_set_.size)
print(group_report(y_test, jtt.predict(X_test), group_labels=g_test, group_names=data.group_names))
"""


def _site_dirs():
    """The site-packages folders of the interpreter running the tests, the user's site included."""
    folders = site.getsitepackages()
    if site.ENABLE_USER_SITE:
        folders.append(site.getusersitepackages())
    return [folder for folder in folders if os.path.isdir(folder)]


def _venv_seeing_these_packages(venv):
    """A fresh venv that imports its own packages first, then this interpreter's.

    ``python -m venv --system-site-packages`` run from inside a venv shows the
    base interpreter's site-packages, not the venv's, where a user who
    installed into a venv has torch and scikit-learn. A ``.pth`` file adds
    this interpreter's own site folders (their ``.pth`` files processed) after
    the new venv's, so a package installed into the new venv wins.
    """
    _run([sys.executable, "-m", "venv", str(venv)])
    bindir = venv / ("Scripts" if os.name == "nt" else "bin")
    python = bindir / ("python.exe" if os.name == "nt" else "python")
    purelib = _run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]).strip()
    lines = [f"import site; site.addsitedir({folder!r})" for folder in _site_dirs()]
    (Path(purelib) / "_running_interpreter_site.pth").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return bindir, python


def test_the_test_venv_sees_this_interpreters_packages(tmp_path):
    # In a user's venv the dependencies are only in the venv: the nested venv must see them there.
    import sklearn

    _, python = _venv_seeing_these_packages(tmp_path / "venv")
    script = "import sys, sklearn, torch; print(sys.prefix); print(sklearn.__file__)"
    prefix, sklearn_file = _run([str(python), "-c", script]).split("\n")[:2]
    assert Path(prefix).resolve() == (tmp_path / "venv").resolve()
    assert Path(sklearn_file).resolve() == Path(sklearn.__file__).resolve()


def test_wheel_installs_into_a_fresh_venv_and_the_quickstart_runs_from_it(dists):
    tmp, wheel, _ = dists
    venv = tmp / "venv"
    bindir, python = _venv_seeing_these_packages(venv)
    _run([str(python), "-m", "pip", "install", "--no-deps", "--no-index", "--quiet", str(wheel)])

    # Outside the source tree, and without PYTHONPATH: only the venv's copy can be imported.
    workdir = tmp / "elsewhere"
    workdir.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    env["MPLBACKEND"] = "Agg"
    output = _run([str(python), "-c", _QUICKSTART], cwd=workdir, env=env)

    imported = Path(output.split("IMPORTED FROM", 1)[1].split("\n", 1)[0].strip()).resolve()
    site_packages = _run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                         cwd=workdir, env=env).strip()
    assert imported.is_relative_to(Path(site_packages).resolve()), imported
    assert not imported.is_relative_to(ROOT), imported
    assert (imported.parent / "py.typed").is_file()
    assert int(output.split("ERROR SET", 1)[1].split()[0]) > 0
    assert "worst group" in output and "red" in output

    # The console script is installed too and answers without importing torch's training code.
    help_text = _run([str(bindir / "jtt-sklearn"), "--help"], cwd=workdir, env=env)
    assert "demo" in help_text
