"""Warnings and errors raised by jtt-sklearn."""

__all__ = [
    "EmptyErrorSetWarning",
    "MisalignedGroupLabelsError",
    "MissingGroupLabelsError",
    "UnknownGroupLabelsError",
    "WeakIdentifierWarning",
]


class EmptyErrorSetWarning(UserWarning):
    """Stage 1 classified every training row correctly, so nothing was upsampled.

    The final model is then plain ERM. Shorten ``T``, lower the learning rate
    or regularise the identification model more so that it underfits the
    minority groups, which is what JTT relies on.
    """


class MisalignedGroupLabelsError(BaseException):
    """A search was given ``group_labels`` whose length differs from the number of rows of X.

    scikit-learn then passes them to every fold's scorer unindexed, and when
    their length happens to equal a fold's size the fold is scored with the
    wrong groups. Like :class:`MissingGroupLabelsError` it derives from
    :class:`BaseException`, so that the search stops instead of scoring.
    """


class MissingGroupLabelsError(BaseException):
    """A group scorer was called without ``group_labels``.

    It derives from :class:`BaseException`, not :class:`Exception`, on
    purpose: scikit-learn's searches and ``cross_validate`` turn every
    ``Exception`` a scorer raises into a NaN score (``error_score=np.nan``,
    their default) and carry on. A forgotten ``group_labels`` (or metadata
    routing switched off) is a setup mistake that would make every score
    NaN, so it must stop the search instead. Catch it by name.
    """


class UnknownGroupLabelsError(BaseException):
    """A group scorer was asked to score rows whose group is ``UNKNOWN_GROUP``.

    In JTT's protocol the training rows have the unknown group (-1), so a
    search or ``cross_validate`` whose test folds (or, with
    ``return_train_score=True``, training folds) contain them cannot be
    scored: use the ``PredefinedSplit`` of
    :func:`~jtt_sklearn.model_selection.make_validation_protocol` as ``cv``.
    Like :class:`~jtt_sklearn.exceptions.MissingGroupLabelsError` it derives
    from :class:`BaseException`, so that a search stops instead of turning
    every such fold into a NaN score (``error_score=np.nan``, the default).
    Catch it by name.
    """


class WeakIdentifierWarning(UserWarning):
    """Stage 1 is less accurate on the training set than always predicting the majority class.

    Its error set is then close to a random half of the rows, not the hard
    minority groups. Usually ``T`` is far too short for this estimator (for
    libsvm-based estimators ``max_iter`` counts solver iterations, not
    epochs): raise ``T``, pass ``T=None`` or name another ``epochs_param``.
    """
