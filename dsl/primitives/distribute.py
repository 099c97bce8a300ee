"""distribute(): proportional split with caps and exact integer totals (largest remainder)."""

from __future__ import annotations

import numpy as np

from dsl.columns import Col
from dsl.primitives.grouping import Groups


class DistributeError(ValueError):
    pass


def distribute_groups(groups: Groups, total: Col, weights: Col, caps: Col | None) -> Col:
    g = groups.g
    n = len(g)
    t = np.asarray(total.data, dtype=np.int64)
    unit_total = t   # units: pieces for int totals, kopecks for money
    # the total must be one value per group
    gt = np.full(groups.n, -1, dtype=np.int64)
    gt[g] = unit_total
    if n and np.any(gt[g] != unit_total):
        bad = int(np.nonzero(gt[g] != unit_total)[0][0])
        raise DistributeError(f"распределяемый итог различается внутри одной группы (строка {bad + 1})")
    w = np.asarray(weights.data, dtype=np.float64)
    if weights.type.kind == "money":
        w = w / 100.0
    if np.any(w < 0) or not np.all(np.isfinite(w)):
        bad = int(np.nonzero((w < 0) | ~np.isfinite(w))[0][0])
        raise DistributeError(f"вес должен быть неотрицательным числом (строка {bad + 1})")
    if caps is not None:
        cap = np.asarray(caps.data, dtype=np.int64).astype(np.float64)
        if caps.type.kind == "int" and total.type.kind == "money":
            cap = cap * 100
        if caps.missing is not None:
            cap = np.where(caps.missing, np.inf, cap)
        if np.any(cap < 0):
            raise DistributeError("ограничение не может быть отрицательным")
    else:
        cap = np.full(n, np.inf)
    return Col(total.type.required, allocate(g, groups.n, gt.astype(np.float64), w, cap))


def allocate(g: np.ndarray, n_groups: int, group_total: np.ndarray, w: np.ndarray,
             cap: np.ndarray) -> np.ndarray:
    """Water-fill shares under caps, then round to integers by largest remainder per group."""
    n = len(g)
    active = (w > 0) & (cap > 0)
    share = np.zeros(n)
    for _ in range(n + 1):
        fixed = np.where(active, 0.0, np.where(np.isfinite(cap) & (w > 0), np.minimum(cap, 1e300), 0.0))
        fixed = np.where(w > 0, fixed, 0.0)
        remaining = group_total - np.bincount(g, weights=fixed, minlength=n_groups)
        wsum = np.bincount(g, weights=np.where(active, w, 0.0), minlength=n_groups)
        with np.errstate(invalid="ignore", divide="ignore"):
            ideal = np.where(active, np.maximum(remaining[g], 0) * w / np.where(wsum[g] > 0, wsum[g], 1), fixed)
        viol = active & (ideal > cap)
        share = ideal
        if not viol.any():
            break
        active &= ~viol
    base = np.floor(share + 1e-9)
    base = np.minimum(base, np.where(np.isfinite(cap), cap, base))
    frac = share - base
    reachable = np.minimum(group_total, np.bincount(g, weights=np.where(np.isfinite(cap), cap, 1e300),
                                                    minlength=n_groups)) if n else group_total
    target = np.where(np.bincount(g, weights=np.where(w > 0, 1.0, 0.0), minlength=n_groups) > 0,
                      np.floor(reachable + 1e-9), 0.0)
    left = (target - np.bincount(g, weights=base, minlength=n_groups)).round().astype(np.int64)
    eligible = (w > 0) & (base + 1 <= cap)
    # rank rows within group by remainder desc, then row order
    order = np.lexsort((np.arange(n), -frac, ~eligible, g))
    starts = np.concatenate([[0], np.cumsum(np.bincount(g, minlength=n_groups))[:-1]])
    pos = np.empty(n, dtype=np.int64)
    pos[order] = np.arange(n) - starts[g[order]]
    bonus = eligible & (pos < left[g])
    return (base + bonus).astype(np.int64)
