"""Volume planning: allocation of territorial-programme volumes to МО, plan versions, plan-fact.

The methodology (what is allocated and how: normatives, weights per method, minimums, caps,
monthly split, checks) lives in a planning package (``methodologies/planning/…``) written in
the rule language. This package only prepares the rows the rules run over and handles data
that is not methodology:

* :mod:`.inputs` — reads the input CSV directory, builds the grid МО × вид помощи × профиль
  (× месяц) and the programme totals;
* :mod:`.notifications` — intake of МО notifications (уведомления) with status history;
* :mod:`.allocate` — runs the package and returns a :class:`~.plan.Plan`;
* :mod:`.plan` — the plan table (month grain), cuts by quarter/year, the МЭК limits table,
  the monthly ≤ quarterly ≤ annual check, versions and their diff;
* :mod:`.corrections` — commission corrections as data, applied with re-balancing;
* :mod:`.planfact` — fact from processed registries and execution per МО × вид × профиль × КСГ × квартал;
* :mod:`.report` — CSV/XLSX (heatmap) output through ``forms``.
"""

from engine.oms.planning.allocate import AllocationResult, allocate
from engine.oms.planning.plan import Plan

__all__ = ["AllocationResult", "Plan", "allocate"]
