#!/usr/bin/env bash
# Build the documentation offline, warnings as errors, with every example executed.
#   bash docs/build.sh                      # full build into docs/_build/html
#   bash docs/build.sh -D plot_gallery=0    # extra sphinx-build options: here, skip running examples
# Needs: pip install sphinx numpydoc pydata-sphinx-theme sphinx-gallery myst-parser matplotlib
set -euo pipefail
cd "$(dirname "$0")/.."
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 MPLBACKEND=Agg
# Generated pages from an earlier build (API pages and stubs, gallery) are remade from scratch.
rm -rf docs/generated docs/api docs/auto_examples docs/sg_execution_times.rst
exec python -m sphinx -W --keep-going -b html "$@" docs docs/_build/html
