"""What every step of a page shares: it runs, or returns ``None`` when the page's data is missing
(:func:`skippable`), and it checks its choices with one clear error (:func:`check_choice`)."""

from __future__ import annotations

import functools
import inspect


def skippable(*names, skipped=None):
    """The one place that decides what a skipped page computes: the decorated step returns ``skipped``
    (``None``) when any of the named arguments (default: the first) is ``None`` or a :class:`Page` whose data
    is missing, so ``None`` flows from a skipped page through every step to its tables, figures and claims,
    and only the paper's values show. Use as ``@skippable``, ``@skippable("views", "study")`` or
    ``@skippable(skipped=(None, None))``."""

    def decorate(fn, names=names):
        params = list(inspect.signature(fn).parameters)
        names = names or (params[0],)

        @functools.wraps(fn)
        def step(*args, **kwargs):
            bound = dict(zip(params, args), **kwargs)
            if any(bound.get(n) is None or getattr(bound.get(n), "skipped", None) for n in names):
                return skipped
            return fn(*args, **kwargs)

        return step

    if len(names) == 1 and callable(names[0]):  # bare @skippable
        return decorate(names[0], ())
    return decorate


def check_choice(name: str, value, choices) -> None:
    if value not in choices:
        raise ValueError(f"{name}={value!r} is not allowed: choose one of {list(choices)}")
