"""Who may see and change what: the three roles, as rules over the campaign data.

- ``committee`` (安委会办公室): every unit; uploads any unit's workbooks; annotates; exports; manages users.
- ``unit``: an officer bound to one county, zone or department. Sees that unit's hazards,
  enterprises, files and findings, and the city-wide aggregates: the dispatch-form figures of every
  unit (``Campaign.indicators``), which the rankings, quotas and the map are made of. Uploads only
  that unit's workbooks; annotates and exports only that unit's subjects.
- ``viewer``: everything the committee sees, read-only (the meeting screen on a shared PC).

These are checked where data is read and written (``components.data.SessionCampaign``, the
annotation book, the export and the upload), never only by hiding widgets: a value sent over the
websocket or typed in a URL meets the same rules. No Panel here.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import pandas as pd

from loaders import Campaign, WorkbookResult

if TYPE_CHECKING:
    from store.audit import Actor

ROLES = ("committee", "unit", "viewer")
ROLE_LABELS = {"committee": "安委会办公室", "unit": "单位", "viewer": "只读"}


class AccessDenied(Exception):
    """An action the signed-in officer may not take; ``message`` is for them (Chinese)."""

    def __init__(self, message: str, action: str = "", target: str = ""):
        super().__init__(message)
        self.message = message
        self.action = action
        self.target = target


@dataclass(frozen=True)
class Access:
    """One session's officer: sign-in name, name shown, role, bound unit, client address."""

    user: str
    role: str
    unit: str | None = None
    display_name: str = ""
    origin: str = ""
    signed_in: bool = True

    def __post_init__(self) -> None:
        if self.role not in ROLES:
            raise ValueError(f"unknown role {self.role!r}")
        if (self.role == "unit") != bool(self.unit):
            raise ValueError("a unit officer is bound to exactly one unit; other roles to none")

    # --- who ---------------------------------------------------------------------------------
    @property
    def name(self) -> str:
        """The name shown on annotations and in the header."""
        return self.display_name or self.user

    @property
    def actor(self) -> Actor:
        """The audit log's "who": the sign-in name (unique), the role, the address."""
        from store.audit import Actor  # here, not at the top: `hazardboard summary` needs no store

        return Actor(self.user, self.role, self.origin)

    # --- what --------------------------------------------------------------------------------
    @property
    def sees_every_unit(self) -> bool:
        return self.role != "unit"

    @property
    def can_write(self) -> bool:
        return self.role != "viewer"

    def may_see(self, unit: str | None) -> bool:
        """Whether the hazards, enterprises and files of ``unit`` are visible."""
        return self.sees_every_unit or (unit is not None and unit == self.unit)

    def check_write(self, action: str, target: str = "") -> None:
        if not self.can_write:
            raise AccessDenied("只读账号不能修改数据（上传、批注、导出均不可用）。", action, target)

    def check_unit(self, unit: str | None, action: str, target: str = "") -> None:
        """A write about ``unit`` (an upload, an annotation, an export scope): own unit only for a unit officer."""
        self.check_write(action, target)
        if self.role == "unit" and unit != self.unit:
            what = f"“{unit}”" if unit else "全市"
            raise AccessDenied(f"您的账号属于{self.unit}，不能对{what}进行此操作。", action, target)

    def upload_refusal(self, result: WorkbookResult) -> str | None:
        """Why this officer may not upload the parsed file, or None. A unit officer's file must
        report their own unit only (every sheet); a file whose unit cannot be recognised is refused
        too, since it could be anyone's."""
        if not self.can_write:
            return "只读账号不能上传文件。"
        if self.role != "unit":
            return None
        units = {submission.unit for submission in result.submissions}
        others = sorted(unit for unit in units if unit != self.unit)
        if others:
            return f"文件“{result.file}”报送的是{'、'.join(others)}的数据，您的账号只能上传{self.unit}的表格。"
        if not units:
            return f"文件“{result.file}”中没有识别出{self.unit}的报表，您的账号只能上传{self.unit}的表格。"
        return None

    # --- the data ----------------------------------------------------------------------------
    def scope(self, campaign: Campaign) -> Campaign:
        """The campaign as this officer may see it (the same object when they see every unit).

        Hazards, the registry (enterprises), submissions, files and findings keep only the bound
        unit's rows; the dispatch-form figures of every unit stay (the city-wide aggregates and
        rankings)."""
        if self.sees_every_unit:
            return campaign
        unit = self.unit
        submissions = campaign.submissions[campaign.submissions["unit"] == unit]
        own_files = set(submissions["source_file"])
        return replace(
            campaign,
            hazards=campaign.hazards[campaign.hazards["unit"] == unit],
            unique_hazards=campaign.unique_hazards[campaign.unique_hazards["unit"] == unit],
            registry=campaign.registry[campaign.registry["unit"] == unit],
            submissions=submissions,
            files=campaign.files[campaign.files["file"].isin(own_files)],
            issues=[issue for issue in campaign.issues if issue.file in own_files],
        )


# The officer of an unprotected server on loopback (a single officer's laptop): the committee.
LOCAL_ACCESS = Access(user="本机", role="committee", display_name="", origin="localhost", signed_in=False)


def visible_hazard_ids(campaign: Campaign, access: Access) -> pd.Index:
    """The hazard ids this officer may see (every one for the committee and viewers)."""
    hazards = campaign.unique_hazards
    if access.sees_every_unit:
        return pd.Index(hazards["hazard_id"])
    return pd.Index(hazards.loc[hazards["unit"] == access.unit, "hazard_id"])
