"""The one place where reawaken asks JAX for 64-bit floats.

reawaken solves stiff equations whose states span ten orders of magnitude, so its JAX work
(diffrax solves, tracing the model for the compiled engine and its Jacobian pattern) runs in
float64. It does not change JAX's global setting: each entry point that traces or runs JAX code
is decorated with :func:`float64`, which turns 64-bit mode on for the duration of the call
only. A user who runs JAX in float32 keeps float32 outside these calls; one who has turned
``jax_enable_x64`` on keeps it on.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any, TypeVar

import jax

F = TypeVar("F", bound=Callable[..., Any])


def x64() -> AbstractContextManager:
    """A context in which JAX makes float64 arrays (``jax.enable_x64``, or the experimental
    context of older JAX releases)."""
    context = getattr(jax, "enable_x64", None)
    if context is None:  # jax < 0.6
        from jax.experimental import enable_x64 as context
    return context(True)


def float64(function: F) -> F:
    """Run ``function`` with JAX in 64-bit mode (and only while it runs)."""

    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with x64():
            return function(*args, **kwargs)

    return wrapper  # type: ignore[return-value]
