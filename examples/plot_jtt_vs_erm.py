"""
JTT against ERM on coloured digits
==================================

A logistic regression trained by ERM learns the colour shortcut of the
coloured digits and fails on the two minority groups. JTT upweights the
rows a short first run gets wrong, with no group label in training.
"""

import numpy as np
from sklearn.linear_model import LogisticRegression

from jtt_sklearn import JTTClassifier
from jtt_sklearn.datasets import load_colored_digits
from jtt_sklearn.metrics import group_report

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
