"""Warnings raised by jtt-sklearn."""

__all__ = ["EmptyErrorSetWarning"]


class EmptyErrorSetWarning(UserWarning):
    """Stage 1 classified every training row correctly, so nothing was upsampled.

    The final model is then plain ERM. Shorten ``T``, lower the learning rate
    or regularise the identification model more so that it underfits the
    minority groups, which is what JTT relies on.
    """
