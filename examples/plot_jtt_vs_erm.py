"""
JTT against ERM on coloured digits
==================================

A logistic regression trained by ERM learns the colour shortcut of the
coloured digits and fails on the two minority groups. JTT upweights the
rows a short first run gets wrong, with no group label in training.
"""

import sys
from pathlib import Path

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
from sklearn.linear_model import LogisticRegression

from jtt_sklearn import JTTClassifier
from jtt_sklearn.datasets import load_colored_digits
from jtt_sklearn.metrics import group_accuracies, group_report

data = load_colored_digits(random_state=0)
(X_train, y_train, g_train), _, (X_test, y_test, g_test) = data

erm = LogisticRegression(max_iter=1000).fit(X_train, y_train)
jtt = JTTClassifier(LogisticRegression(max_iter=1000), T=1, lambda_up=50, random_state=0)
jtt.fit(X_train, y_train)

# %%
# The error set is almost exactly the two minority groups, found without groups:
print("error set size:", jtt.error_set_.size)
print("its groups:", np.bincount(g_train[jtt.error_set_], minlength=4), "of", np.bincount(g_train))

# %%
# Per-group test accuracy: groups are used only here, to score.
print(
    "ERM worst-group and per-group accuracy\n"
    + group_report(y_test, erm.predict(X_test), group_labels=g_test, group_names=data.group_names)
)
print(
    "JTT worst-group and per-group accuracy\n"
    + group_report(y_test, jtt.predict(X_test), group_labels=g_test, group_names=data.group_names)
)

# %%
# The same numbers as bars: JTT trades a little accuracy on the majority groups
# for much more on the minorities.
names = data.group_names
fig, ax = plt.subplots(figsize=(7, 3.2))
for offset, (label, model) in zip((-0.2, 0.2), (("ERM", erm), ("JTT", jtt))):
    per_group = group_accuracies(y_test, model.predict(X_test), group_labels=g_test)
    ax.bar(np.arange(len(names)) + offset, [per_group[g].accuracy for g in per_group], width=0.4, label=label)
ax.set_xticks(np.arange(len(names)), names, fontsize=8)
ax.set_ylabel("test accuracy")
ax.set_ylim(0, 1)
ax.legend()
fig.tight_layout()

# %%
# Run as a script (``python examples/plot_jtt_vs_erm.py``), the example saves its figure as
# ``plot_jtt_vs_erm.png`` in the current directory, and opens a window where there
# is a display; on the documentation site, sphinx-gallery shows it above instead.
if "sphinx_gallery" not in sys.modules:
    png = Path(Path(__file__).stem + ".png")
    fig.savefig(png, dpi=100)
    print(f"figure written to {png.resolve()}")
    if matplotlib.get_backend().lower() not in {"agg", "pdf", "svg", "ps", "cairo", "template"}:
        plt.show()
