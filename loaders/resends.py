"""Which submission counts: the contract's rules on periods, resends and corrections, in one place.

Used by ``build_campaign`` (files read directly) and by the store (files received over weeks),
so both answer the same. The rules (data contract, "Periods, resends and corrections"):

- A submission whose period is outside the campaign window (or unknown) is *held aside*: it
  changes no figure.
- For one kind, unit and period, a file of a later batch (files ingested together) replaces one
  of an earlier batch. Within one batch: a file whose title or name says 更正/修改/修订 wins;
  otherwise the later 时间 filing date; otherwise the later file name (compared with numbers as
  numbers, so "台账(2)" follows "台账"). A filing date outside ``FILING_WINDOW`` is ignored here.
- A ledger that says 补报/补充 adds its hazards to that period's ledger instead of replacing it:
  every such supplement stays active beside the period's current ledger.
- Notice boards are not per period: every board file stays active and the registry keeps the
  latest board of each enterprise (``loaders.campaign``).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass

from .reference import CAMPAIGN_END_PERIOD, CAMPAIGN_START_PERIOD, REPORT_DAY

PERIODIC_KINDS = ("ledger", "county_form", "department_form")

# Filing dates that can be real: from the campaign's start to the end of the following year
# (late corrections). Anything else is a typo ("2032") and does not order resends.
FILING_WINDOW = (dt.date(2023, 5, 1), dt.date(2024, 12, 31))


def in_campaign_window(period: str | None) -> bool:
    return period is not None and CAMPAIGN_START_PERIOD <= period <= CAMPAIGN_END_PERIOD


def filing_deadline(period: str) -> dt.date:
    """The forms for ``period`` (YYYY-MM) are due on the 23rd of the following month."""
    year, month = int(period[:4]), int(period[5:7])
    year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return dt.date(year, month, REPORT_DAY)


def statistics_date(counted_periods: Sequence[str], today: dt.date) -> dt.date:
    """统计日期: today, capped at the filing deadline of the latest counted period received, so a
    finished campaign is shown as it stood when its last forms came in."""
    in_window = [p for p in counted_periods if in_campaign_window(p)]
    return min(today, filing_deadline(max(in_window))) if in_window else today


def filing_date_usable(date: dt.date | None) -> bool:
    return date is not None and FILING_WINDOW[0] <= date <= FILING_WINDOW[1]


def natural_key(name: str) -> tuple:
    """A file name compared the way a person reads it: digit runs as numbers, extension ignored."""
    stem = re.sub(r"\.[A-Za-z]{2,4}$", "", name)
    return tuple((0, int(part), "") if part.isdigit() else (1, 0, part) for part in re.split(r"(\d+)", stem) if part)


@dataclass(frozen=True)
class Candidate:
    """What the rules need to know of one submission; ``received`` is its place in arrival order."""

    kind: str
    unit: str
    period: str | None
    batch: int
    correction: bool
    supplement: bool
    reported_on: dt.date | None
    file_name: str
    received: int

    @property
    def key(self) -> tuple[str, str, str | None]:
        return (self.kind, self.unit, self.period)

    @property
    def order(self) -> tuple:
        """Ascending: the last of a key's submissions is the one that counts."""
        filed = self.reported_on if filing_date_usable(self.reported_on) else dt.date.min
        return (self.batch, self.correction, filed, natural_key(self.file_name), self.received)


@dataclass(frozen=True)
class Decision:
    """``state``: "active" (counts), "added" (a supplement that counts beside the ledger),
    "superseded" (replaced by ``by``, the index of the candidate that replaced it) or
    "held_aside" (period outside the campaign window)."""

    state: str
    by: int | None = None

    @property
    def counts(self) -> bool:
        return self.state in ("active", "added")


def resolve(candidates: Sequence[Candidate]) -> list[Decision]:
    """One decision per candidate, in the candidates' order."""
    decisions: list[Decision | None] = [None] * len(candidates)
    groups: dict[tuple, list[int]] = {}
    for index, candidate in enumerate(candidates):
        if candidate.kind not in PERIODIC_KINDS:
            decisions[index] = Decision("active")
        elif not in_campaign_window(candidate.period):
            decisions[index] = Decision("held_aside")
        elif candidate.kind == "ledger" and candidate.supplement:
            decisions[index] = Decision("added")
        else:
            groups.setdefault(candidate.key, []).append(index)
    for indexes in groups.values():
        indexes.sort(key=lambda i: candidates[i].order)
        for older, newer in zip(indexes, indexes[1:]):
            decisions[older] = Decision("superseded", newer)
        decisions[indexes[-1]] = Decision("active")
    return decisions  # type: ignore[return-value]
