"""
Choosing T and lambda_up by worst-group validation accuracy
===========================================================

The paper's protocol: the training rows have no group label, a smaller
validation set has them, and ``GridSearchCV`` selects ``T`` and ``lambda_up``
by worst-group accuracy on validation alone. Here the validation set is drawn
like the training set, with few minority rows (as CelebA's is), so selecting
by average accuracy instead picks a model that fails the minority groups.
"""

import sys
from pathlib import Path

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import sklearn
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler

from jtt_sklearn import JTTClassifier
from jtt_sklearn.datasets import load_colored_digits
from jtt_sklearn.metrics import make_worst_group_scorer, worst_group_accuracy
from jtt_sklearn.model_selection import make_validation_protocol, refit_on_train

# Group scorers receive group_labels through metadata routing.
sklearn.set_config(enable_metadata_routing=True)

(X_train, y_train, _), (X_val, y_val, g_val), (X_test, y_test, g_test) = load_colored_digits(random_state=0)

# Keep 15% of the validation rows of the two minority groups (1 and 2).
rng = np.random.RandomState(0)
keep = (g_val == 0) | (g_val == 3) | (rng.rand(len(g_val)) < 0.15)
X_val, y_val, g_val = X_val[keep], y_val[keep], g_val[keep]
print("validation rows per group:", np.bincount(g_val))
X, y, group_labels, cv = make_validation_protocol(X_train, y_train, X_val, y_val, g_val)
print("training rows with unknown group (-1):", int(np.sum(group_labels == -1)))

# %%
# JTT inside a Pipeline; lambda_up=1 is plain ERM, so ERM is one of the candidates.
pipe = make_pipeline(MinMaxScaler(), JTTClassifier(LogisticRegression(max_iter=1000), random_state=0))
grid = {"jttclassifier__T": [1, 10], "jttclassifier__lambda_up": [1, 5, 20, 50, 100, 200]}
search = GridSearchCV(
    pipe,
    grid,
    cv=cv,
    scoring={"worst_group": make_worst_group_scorer(), "accuracy": "accuracy"},
    refit=False,
    error_score="raise",
).fit(X, y, group_labels=group_labels)

results = search.cv_results_
print(f"{'T':>3} {'lambda_up':>9} {'val worst-group':>16} {'val accuracy':>13}")
for params, worst, accuracy in zip(
    results["params"], results["mean_test_worst_group"], results["mean_test_accuracy"]
):
    print(
        f"{params['jttclassifier__T']:>3} {params['jttclassifier__lambda_up']:>9} "
        f"{worst:>16.3f} {accuracy:>13.3f}"
    )

# %%
# Worst-group selection and average-accuracy selection choose differently.
by_worst = results["params"][np.argmax(results["mean_test_worst_group"])]
by_accuracy = results["params"][np.argmax(results["mean_test_accuracy"])]
print("chosen by worst-group accuracy:", by_worst)
print("chosen by average accuracy:   ", by_accuracy)

# %%
# Refit each choice on the training rows only (as the paper does) and test it.
# ``refit=False`` with several metrics leaves the choice to us.
for name, params in [("worst-group", by_worst), ("average-accuracy", by_accuracy)]:
    search.best_params_ = params
    model = refit_on_train(search, X_train, y_train)
    score = worst_group_accuracy(y_test, model.predict(X_test), group_labels=g_test)
    print(f"test worst-group accuracy of the {name} choice: {score:.3f}")
sklearn.set_config(enable_metadata_routing=False)

# %%
# Every candidate's two validation scores: the highest average accuracy sits where the
# worst group is poor.
fig, ax = plt.subplots(figsize=(5, 3.5))
ax.scatter(results["mean_test_accuracy"], results["mean_test_worst_group"], color="grey", label="candidate")
choices = [("worst-group choice", by_worst, "*"), ("average-accuracy choice", by_accuracy, "X")]
for label, params, marker in choices:
    i = results["params"].index(params)
    ax.scatter(results["mean_test_accuracy"][i], results["mean_test_worst_group"][i], s=160, marker=marker,
               label=label)
ax.set_xlabel("validation accuracy")
ax.set_ylabel("validation worst-group accuracy")
ax.legend(fontsize=8)
fig.tight_layout()

# %%
# Run as a script (``python examples/plot_validation_protocol.py``), the example saves its figure as
# ``plot_validation_protocol.png`` in the current directory, and opens a window where there
# is a display; on the documentation site, sphinx-gallery shows it above instead.
if "sphinx_gallery" not in sys.modules:
    png = Path(Path(__file__).stem + ".png")
    fig.savefig(png, dpi=100)
    print(f"figure written to {png.resolve()}")
    if matplotlib.get_backend().lower() not in {"agg", "pdf", "svg", "ps", "cairo", "template"}:
        plt.show()
