"""The choices a generator makes, behind one small interface with two backends.

The schema walk (:mod:`~caliper_schema.generation.building`) asks a :class:`Draw` three questions only: an
integer in a range, a yes or no, one of some options. Two backends answer them:

* :class:`HypothesisDraw` passes each question to Hypothesis, which records the answers and shrinks them
  (integers towards the low end, ``False``, earlier options): the walk is written so that those answers
  give the smallest document, so a failing property test reports a small event;
* :class:`RandomDraw` answers from a seeded :class:`random.Random`, using nothing but ``random()``, the one
  method whose sequence Python promises to keep for a given seed: the same seed gives the same documents
  on any machine and any Python version (the fixture generator, :mod:`~caliper_schema.generation.generating`).

>>> import random
>>> draw = RandomDraw(random.Random(7))
>>> 1 <= draw.integer(1, 6) <= 6, draw.choice(["a", "b"]) in "ab"
(True, True)
"""

from __future__ import annotations

import functools
import random
from collections.abc import Callable, Sequence
from typing import Any, Protocol, TypeVar

T = TypeVar("T")

_CHUNK = 1 << 32


class Draw(Protocol):
    """Where a generator's choices come from."""

    def integer(self, low: int, high: int) -> int:
        """An integer in ``[low, high]``; Hypothesis shrinks it towards ``low``."""
        ...

    def boolean(self, chance: float) -> bool:
        """``True`` with about the given probability; Hypothesis shrinks it to ``False``."""
        ...

    def choice(self, options: Sequence[T]) -> T:
        """One of ``options`` (not empty); Hypothesis shrinks it towards the first."""
        ...


class RandomDraw:
    """A :class:`Draw` over a seeded :class:`random.Random`, reproducible across machines and versions.

    >>> import random
    >>> [RandomDraw(random.Random("11:0")).integer(0, 99) for _ in range(2)]
    [31, 31]
    """

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def integer(self, low: int, high: int) -> int:
        """An integer in ``[low, high]`` built from 32-bit slices of ``random()``."""
        span = high - low + 1
        if span <= 0:
            raise ValueError(f"empty range [{low}, {high}]")
        value, scale = 0, 1
        while scale < span:  # enough 32-bit slices to cover the span, then reduce
            value = value * _CHUNK + int(self.rng.random() * _CHUNK)
            scale *= _CHUNK
        return low + (value % span if scale > 1 else 0)

    def boolean(self, chance: float) -> bool:
        """``True`` with probability ``chance``."""
        return self.rng.random() < chance

    def choice(self, options: Sequence[T]) -> T:
        """One of ``options``, uniformly."""
        return options[self.integer(0, len(options) - 1)]


@functools.lru_cache(maxsize=4096)
def _integers(low: int, high: int) -> Any:
    from hypothesis import strategies as st  # only the Hypothesis backend needs it

    return st.integers(low, high)


class HypothesisDraw:
    """A :class:`Draw` over Hypothesis's ``draw`` function (inside ``@st.composite`` or ``st.data()``).

    Every answer is an integer draw, which Hypothesis shrinks towards the low end: ``boolean`` reads a
    draw in 0..99 so that its shrunk value is ``False``, and ``choice`` an index so that it is the first
    option.
    """

    def __init__(self, draw: Callable[[Any], Any]) -> None:
        self.draw = draw

    def integer(self, low: int, high: int) -> int:
        """An integer in ``[low, high]``."""
        return int(self.draw(_integers(low, high)))

    def boolean(self, chance: float) -> bool:
        """``True`` with about the given probability, ``False`` once shrunk."""
        return self.integer(0, 99) >= round((1 - chance) * 100)

    def choice(self, options: Sequence[T]) -> T:
        """One of ``options``, the first once shrunk."""
        return options[self.integer(0, len(options) - 1)]
