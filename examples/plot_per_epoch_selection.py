"""
Keeping the best epoch by worst-group validation accuracy
=========================================================

The paper also chooses the final model's stopping epoch by worst-group
validation accuracy. :class:`~jtt_sklearn.callbacks.WorstGroupScoring`
records it in the skorch history every epoch, and skorch's ``Checkpoint``
saves the best epoch. Both go to the final net only, through
``final_params``: on the identification net they would change the error set.
"""

import sys
import tempfile
from pathlib import Path

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import torch
from skorch import NeuralNetClassifier
from skorch.callbacks import Checkpoint
from torch import nn

from jtt_sklearn import JTTClassifier
from jtt_sklearn.callbacks import WorstGroupScoring
from jtt_sklearn.datasets import load_colored_digits
from jtt_sklearn.metrics import worst_group_accuracy

(X_train, y_train, _), (X_val, y_val, g_val), (X_test, y_test, g_test) = load_colored_digits(random_state=0)

net = NeuralNetClassifier(
    nn.Sequential(nn.Linear(128, 64), nn.ReLU(), nn.Linear(64, 2)),
    criterion=nn.CrossEntropyLoss,
    optimizer=torch.optim.Adam,
    lr=1e-3,
    max_epochs=30,
    train_split=None,
    verbose=0,
)
scoring = WorstGroupScoring(X_val, y_val, g_val, classes=np.unique(y_train))
# f_history=None keeps the full history when the best epoch is loaded back.
checkpoint = Checkpoint(
    monitor="valid_worst_group_best", dirname=tempfile.mkdtemp(), load_best=True, f_history=None
)
jtt = JTTClassifier(net, T=1, lambda_up=20, final_params={"callbacks": [scoring, checkpoint]}, random_state=0)
jtt.fit(X_train, y_train)

# %%
# The history holds the validation worst-group accuracy of every epoch;
# ``load_best=True`` restored the best one at the end of training.
history = jtt.final_estimator_.history
curve = history[:, "valid_worst_group"]
best_epoch = int(np.argmax(curve)) + 1
print(
    f"best epoch {best_epoch} of {len(curve)}: validation worst-group {max(curve):.3f}, "
    f"last epoch {curve[-1]:.3f}"
)
restored = worst_group_accuracy(y_val, jtt.predict(X_val), group_labels=g_val)
print(f"restored model's validation worst-group accuracy: {restored:.3f}")
print(
    f"test worst-group accuracy: {worst_group_accuracy(y_test, jtt.predict(X_test), group_labels=g_test):.3f}"
)

fig, ax = plt.subplots(figsize=(6, 3))
ax.plot(range(1, len(curve) + 1), curve, marker="o")
ax.axvline(best_epoch, color="grey", linestyle="--", label="kept epoch")
ax.set_xlabel("epoch of the final model")
ax.set_ylabel("validation worst-group accuracy")
ax.legend()
fig.tight_layout()

# %%
# Run as a script (``python examples/plot_per_epoch_selection.py``), the example saves its figure as
# ``plot_per_epoch_selection.png`` in the current directory, and opens a window where there
# is a display; on the documentation site, sphinx-gallery shows it above instead.
if "sphinx_gallery" not in sys.modules:
    png = Path(Path(__file__).stem + ".png")
    fig.savefig(png, dpi=100)
    print(f"figure written to {png.resolve()}")
    if matplotlib.get_backend().lower() not in {"agg", "pdf", "svg", "ps", "cairo", "template"}:
        plt.show()
