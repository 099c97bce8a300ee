"""Exact group reductions by sorting (int64 stays exact; no float accumulation)."""

from __future__ import annotations

from functools import cached_property

import numpy as np


class Groups:
    """Rows of S assigned to G groups; sorts once, and only for reductions that need the sort
    (a count or an exact integer sum does not)."""

    def __init__(self, g: np.ndarray, n_groups: int) -> None:
        self.g = np.asarray(g, dtype=np.int64)
        self.n = int(n_groups)

    @cached_property
    def counts(self) -> np.ndarray:
        return np.bincount(self.g, minlength=self.n).astype(np.int64) if len(self.g) else \
            np.zeros(self.n, dtype=np.int64)

    @cached_property
    def starts(self) -> np.ndarray:
        return np.concatenate([[0], np.cumsum(self.counts)[:-1]]) if self.n else np.zeros(0, np.int64)

    @cached_property
    def nonempty(self) -> np.ndarray:
        return self.counts > 0

    @cached_property
    def order(self) -> np.ndarray:
        return np.argsort(self.g, kind="stable")

    @cached_property
    def sorted_g(self) -> np.ndarray:
        return self.g[self.order]

    def reduce(self, ufunc: np.ufunc, values: np.ndarray, empty) -> np.ndarray:
        values = np.asarray(values)
        out = np.full(self.n, empty, dtype=values.dtype if values.dtype != np.bool_ else np.bool_)
        if len(values) == 0 or not self.nonempty.any():
            return out
        sv = values[self.order]
        idx = self.starts[self.nonempty]
        out[self.nonempty] = ufunc.reduceat(sv, idx)
        return out

    def ordered(self, keys: list[np.ndarray]) -> np.ndarray:
        """Row order sorted by group, then by keys (last key is the most significant)."""
        n = len(self.g)
        return np.lexsort([np.arange(n), *keys, self.g]) if n else np.zeros(0, np.int64)

    def position_in_group(self, order: np.ndarray) -> np.ndarray:
        """0-based position of every row within its group, given a group-major order."""
        n = len(order)
        pos = np.empty(n, dtype=np.int64)
        gs = self.g[order]
        pos[order] = np.arange(n) - self.starts[gs]
        return pos
