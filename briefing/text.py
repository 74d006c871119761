"""The briefing (简报) as structured text, shared by the Word and the PDF writers.

``briefing_document(figures, issue_no, issue_date)`` writes every paragraph and table of a pack
from a :class:`metrics.briefing.BriefingFigures` in the register of the bureau's bulletins
(一、总体进展 … 七、工作批注, the 抄报/分送 block, the 印发 line). It computes no figure: numbers
are the figures' fields formatted (counts without decimals, 63.4%, 253.6万元, "未报送" for a
missing value); a change since the previous period comes from ``metrics.briefing.change``.
Units that lead and lag are named by picking rows of the figures' frames, never by counting.

Text from workbooks and officers (unit, enterprise and hazard names, annotations) is kept as
written, with control characters removed; each writer escapes it for its own format.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass, field

import pandas as pd

from loaders.reference import (INDICATOR_BY_KEY, QUOTA_COUNTY_HAZARDS, QUOTA_DEPARTMENT_HAZARDS,
                               QUOTA_TYPICAL_CASES, SECTOR_LABELS, STATUS_LABELS, SUPERVISION_LABELS,
                               SUPERVISION_PROGRESS_DAYS)
from briefing.formats import format_rate, is_missing
from metrics.briefing import BriefingFigures, change
from metrics.overview import rank_change_text

ORGANISATION = "赣州市安全生产委员会办公室"
TITLE = "重大事故隐患专项排查整治简报"
COPY_TO = "市委、市政府领导，省安委办。"
DISTRIBUTE_TO = "市安委会各成员单位，各县（市、区）安委会，赣州经开区、蓉江新区、赣州高新区安委会。"
MISSING = "未报送"
OVERDUE_LISTED = 20  # overdue hazards listed by name; the rest are counted
LEADERS = 3          # units named as leading or lagging in a sentence

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_CHINESE_DIGITS = "〇一二三四五六七八九"


@dataclass(frozen=True)
class Paragraph:
    text: str
    style: str = "body"   # body | subheading | note


@dataclass(frozen=True)
class Table:
    headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    title: str = ""
    widths: tuple[float, ...] = ()  # relative column widths; empty: equal


@dataclass(frozen=True)
class Chart:
    key: str       # a key of briefing.charts.render_charts; writers skip keys they were not given
    caption: str


Block = Paragraph | Table | Chart


@dataclass(frozen=True)
class Section:
    heading: str
    blocks: tuple[Block, ...]


@dataclass(frozen=True)
class BriefingDocument:
    organisation: str
    title: str
    issue_no: int
    issue_date: dt.date
    period: str
    scope_label: str
    headline: str
    sections: tuple[Section, ...]
    copy_to: str = COPY_TO
    distribute_to: str = DISTRIBUTE_TO
    subtitle: str = ""   # the scope line under the title (a unit's pack names the unit)

    @property
    def issue_line(self) -> str:
        return f"第{self.issue_no}期"

    @property
    def date_text(self) -> str:
        return chinese_date(self.issue_date)

    @property
    def printed_line(self) -> str:
        return f"{self.date_text}印发"

    def texts(self) -> list[str]:
        """Every text of the document in reading order (for tests and search)."""
        out = [self.organisation, self.title, self.issue_line, self.subtitle, self.date_text, self.headline]
        for section in self.sections:
            out.append(section.heading)
            for block in section.blocks:
                if isinstance(block, Paragraph):
                    out.append(block.text)
                elif isinstance(block, Table):
                    out.extend([block.title, *block.headers, *(cell for row in block.rows for cell in row)])
                else:
                    out.append(block.caption)
        out += [f"抄报：{self.copy_to}", f"分送：{self.distribute_to}", self.organisation, self.printed_line]
        return [text for text in out if text]


# --- formatting -----------------------------------------------------------------------------

def clean(value: object) -> str:
    """Workbook or officer text as one safe string: missing → "", control characters dropped."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA or value is pd.NaT:
        return ""
    return _CONTROL.sub("", str(value)).strip()




def number(value: object) -> str:
    """A figure as printed: whole numbers without decimals, others with at most two; "未报送" if missing."""
    if is_missing(value):
        return MISSING
    value = float(value)
    if value == int(value):
        return str(int(value))
    return f"{value:.2f}".rstrip("0").rstrip(".")


def count(value: object, unit: str = "") -> str:
    text = number(value)
    return text if text == MISSING else f"{text}{unit}"


def money(value: object) -> str:
    return count(value, "万元")




def chinese_date(day: dt.date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def month_end(period: str | None) -> str:
    """"2023-08" → "8月底" (the bulletins' "截至8月底")."""
    if not period:
        return ""
    return f"{int(period[5:7])}月底"


def quarter_label(quarter: str | None) -> str:
    """"2023Q3" → "第三季度"."""
    if not quarter or "Q" not in quarter:
        return "本季度"
    return f"第{_CHINESE_DIGITS[int(quarter.split('Q')[1])]}季度"


def sector_label(key: object) -> str:
    text = clean(key)
    return SECTOR_LABELS.get(text, text or "未注明")


def plain_markdown(text: object) -> str:
    """An annotation's Markdown as plain text: links keep their words, marks and list bullets go."""
    out = clean(text)
    out = re.sub(r"!\[([^\]]*)\]\([^)]*\)", r"\1", out)
    out = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", out)
    out = re.sub(r"(?m)^\s{0,3}#{1,6}\s*", "", out)
    out = re.sub(r"(?m)^\s*(?:[-*+]|\d+[.)])\s+", "", out)
    out = re.sub(r"(?m)^\s*>\s?", "", out)
    out = re.sub(r"(\*\*|__|~~|`)", "", out)
    out = re.sub(r"(?<![\w*])\*(?!\s)([^*\n]+)(?<!\s)\*", r"\1", out)
    lines = [line.strip() for line in out.splitlines() if line.strip()]
    return "；".join(lines)


def _names(units) -> str:
    return "、".join(clean(u) for u in units)


# --- the document -----------------------------------------------------------------------------

def briefing_document(figures: BriefingFigures, issue_no: int, issue_date: dt.date) -> BriefingDocument:
    """The briefing for ``figures``: title block, headline, sections 一 … 七, distribution block."""
    writer = _Writer(figures)
    sections = (
        Section("一、总体进展", writer.overall()),
        Section("二、各地各部门进展和通报排名", writer.ranking()),
        Section("三、行业领域分布", writer.sectors()),
        Section("四、执法检查情况", writer.enforcement()),
        Section("五、宣传培训和领导履职", writer.training()),
        Section("六、逾期和挂牌督办隐患", writer.overdue()),
        Section("七、工作批注", writer.annotations()),
    )
    subtitle = f"（{figures.unit}）" if figures.unit else ""
    return BriefingDocument(organisation=ORGANISATION, title=TITLE, issue_no=int(issue_no), issue_date=issue_date,
                            period=figures.period, scope_label=figures.scope_label, headline=writer.headline(),
                            sections=sections, subtitle=subtitle)


@dataclass
class _Writer:
    f: BriefingFigures
    scope: str = field(init=False)
    until: str = field(init=False)

    def __post_init__(self):
        self.scope = self.f.scope_label
        self.until = f"截至{month_end(self.f.period)}"

    # -- shared pieces

    @property
    def has_forms(self) -> bool:
        return self.f.kpis.units_reporting > 0

    def _ranking_of_unit(self) -> tuple[str, pd.Series | None, pd.DataFrame]:
        """For a unit's pack: its peers' label, its ranking row (None if unranked) and the peers' ranking."""
        ranking = self.f.department_ranking if self._unit_type() == "department" else self.f.county_ranking
        label = {"department": "市直部门", "zone": "各县（市、区）和功能区"}.get(self._unit_type(), "各县（市、区）")
        rows = ranking[ranking["unit"] == self.f.unit]
        return label, (rows.iloc[0] if len(rows) else None), ranking

    def _unit_type(self) -> str:
        for frame in (self.f.unit_progress, self.f.county_ranking, self.f.department_ranking, self.f.hazards):
            if "unit" in frame.columns and "unit_type" in frame.columns:
                rows = frame[frame["unit"] == self.f.unit]
                if len(rows):
                    return str(rows["unit_type"].iloc[0])
        return "county"

    @staticmethod
    def _rank_groups(ranking: pd.DataFrame) -> list[tuple[int, list[str], object]]:
        groups = []
        for rank, rows in ranking.groupby("rank", sort=True):
            groups.append((int(rank), list(rows["unit"]), rows["value"].iloc[0]))
        return groups

    def _group_text(self, rank: int, units: list[str], value: object) -> str:
        if len(units) > 1:
            return f"{_names(units)}（各{count(value, '条')}）并列第{rank}位"
        return f"{_names(units)}（{count(value, '条')}）居第{rank}位"

    def _movement(self, row: pd.Series) -> str:
        moved = row.get("rank_change")
        if is_missing(moved):
            return "上期未参加排名"
        moved = int(moved)
        if moved > 0:
            return f"较上期上升{moved}位"
        if moved < 0:
            return f"较上期下降{-moved}位"
        return "与上期持平"

    # -- headline

    def headline(self) -> str:
        f, k = self.f, self.f.kpis
        if f.is_empty:
            return f"{self.until}，{self.scope}尚未报送重大事故隐患专项排查整治调度数据，本期简报暂无统计内容。"
        parts = [f"{self.scope}重大事故隐患专项排查整治工作持续推进。"]
        if self.has_forms:
            text = (f"{self.until}，{self.scope}累计排查重大事故隐患{number(k.hazards_found)}条，"
                    f"已整改{number(k.rectified)}条，整改率{format_rate(k.rectification_rate)}")
            if f.previous_kpis is not None:
                found = change(k.hazards_found, f.previous_kpis.hazards_found)
                fixed = change(k.rectified, f.previous_kpis.rectified)
                if found == 0 and fixed == 0:
                    text += f"，与{month_end(f.previous_period)}持平"
                else:
                    text += f"，比{month_end(f.previous_period)}{_delta(found, '条')}，已整改{_delta(fixed, '条')}"
            parts.append(text + "。")
        else:
            parts.append(f"{self.until}，{self.scope}尚未报送调度表，以下据隐患台账统计。")
        if f.unit is None:
            lead = self._rank_groups(f.county_ranking)[:1]
            if lead:
                rank, units, value = lead[0]
                verb = "并列首位" if len(units) > 1 else "居首位"
                parts.append(f"各县（市、区）中{_names(units)}排查数量{verb}（{count(value, '条')}）。")
        else:
            label, row, _ = self._ranking_of_unit()
            if row is not None:
                parts.append(f"排查数量在{label}中排第{int(row['rank'])}位。")
        overdue = f"台账中逾期未整改隐患{number(k.overdue)}条" if k.overdue else "台账中暂无逾期未整改隐患"
        parts.append(f"截至统计日，{overdue}"
                     + ("，另有挂牌督办隐患超过时限未取得实质性进展，需重点督促。" if len(f.stalled) else "。"))
        return "".join(parts)

    # -- 一、总体进展

    def overall(self) -> tuple[Block, ...]:
        f, k = self.f, self.f.kpis
        if f.is_empty:
            return (Paragraph(f"{self.until}，{self.scope}尚未报送调度表和隐患台账，暂无进展数据。"),)
        blocks: list[Block] = []
        if self.has_forms:
            who = (f"共有{k.units_reporting}个县（市、区）、功能区和市直部门报送调度表，" if f.unit is None else "")
            if f.unit is not None and self._unit_type() == "department":  # 附件4 has no 企业自查 figures
                text = (f"{self.until}，{self.scope}累计排查重大事故隐患{number(k.hazards_found)}条，"
                        f"已整改{number(k.rectified)}条，整改率{format_rate(k.rectification_rate)}。")
            else:
                text = (f"{self.until}，{self.scope}{who}累计排查重大事故隐患{number(k.hazards_found)}条，"
                        f"其中企业自查发现{number(k.self_found)}条、部门检查发现{number(k.dept_found)}条；"
                        f"已整改{number(k.rectified)}条（企业自查隐患已整改{number(k.self_rectified)}条、"
                        f"部门检查隐患已整改{number(k.dept_rectified)}条），整改率{format_rate(k.rectification_rate)}。")
            if f.previous_kpis is not None:
                p = f.previous_kpis
                text += (f"与{month_end(f.previous_period)}相比，排查隐患{_delta(change(k.hazards_found, p.hazards_found), '条')}，"
                         f"已整改{_delta(change(k.rectified, p.rectified), '条')}，"
                         f"挂牌督办{_delta(change(k.supervised, p.supervised), '个')}。")
            else:
                text += "本期为首次调度，暂无上期数据比较。"
            blocks.append(Paragraph(text))
            blocks.append(Paragraph(f"各级政府挂牌督办重大事故隐患{number(k.supervised)}个，"
                                    f"已完成整治{number(k.supervised_rectified)}个。"))
        else:
            blocks.append(Paragraph(f"{self.until}，{self.scope}尚未报送调度表，排查和整改数量暂缺。"))
        blocks.append(Paragraph(
            f"据隐患台账统计，{self.scope}在册重大事故隐患{number(k.ledger_hazards)}条，其中省级挂牌督办"
            f"{number(k.ledger_supervised_province)}条、市级挂牌督办{number(k.ledger_supervised_city)}条、"
            f"县级挂牌督办{number(k.ledger_supervised_county)}条。"))
        if not k.forms_follow_filter:
            blocks.append(Paragraph("说明：调度表不分行业领域，排查和整改数量为所选单位的全部数据；台账数据按所选条件统计。",
                                    "note"))
        if f.unit is None:
            ranked = f.unit_progress.dropna(subset=["rate"])
            if len(ranked):
                ordered = ranked.sort_values("rate", ascending=False, kind="stable")
                top = ordered.head(LEADERS)
                low = ordered[~ordered["unit"].isin(top["unit"])].tail(LEADERS).iloc[::-1]
                text = "整改率较高的是" + "、".join(f"{clean(r.unit)}（{format_rate(r.rate)}）" for r in top.itertuples())
                if len(low):
                    text += "；整改率较低的是" + "、".join(f"{clean(r.unit)}（{format_rate(r.rate)}）" for r in low.itertuples())
                blocks.append(Paragraph(text + "。"))
        blocks.append(Chart("map", "各县（市、区）重大事故隐患分布"))
        return tuple(blocks)

    # -- 二、各地各部门进展和通报排名

    def ranking(self) -> tuple[Block, ...]:
        f = self.f
        blocks: list[Block] = []
        if f.county_ranking.empty and f.department_ranking.empty:
            return (Paragraph(f"{self.until}，尚无单位报送调度表，本期不作通报排名。"),)
        if f.unit is None:
            for label, ranking, chart in (("各县（市、区）", f.county_ranking, "counties"),
                                          ("市直部门", f.department_ranking, "departments")):
                if ranking.empty:
                    blocks.append(Paragraph(f"{label}尚未报送调度表，暂不排名。"))
                    continue
                blocks.append(Paragraph(self._ranking_sentence(label, ranking)))
                blocks.append(Chart(chart, f"{label}累计排查重大事故隐患数量"))
                blocks.append(_ranking_table(f"{label}排查重大事故隐患通报排名", ranking))
        else:
            label, row, ranking = self._ranking_of_unit()
            progress = f.unit_progress[f.unit_progress["unit"] == f.unit]
            if row is None:
                blocks.append(Paragraph(f"{self.until}，{self.scope}未报送调度表排查数据，未参加{label}通报排名。"))
            else:
                text = (f"{self.until}，{self.scope}累计排查重大事故隐患{count(row['value'], '条')}，"
                        f"在{label}中排第{int(row['rank'])}位，{self._movement(row)}")
                if len(progress):
                    text += f"；整改率{format_rate(progress['rate'].iloc[0])}"
                groups = self._rank_groups(ranking)
                if groups and f.unit not in groups[0][1]:
                    rank, units, value = groups[0]
                    text += f"。{label}中{self._group_text(rank, units, value)}"
                blocks.append(Paragraph(text + "。"))
            if not ranking.empty:
                blocks.append(_ranking_table(f"{label}排查重大事故隐患通报排名", ranking))
        blocks.extend(self._quota())
        return tuple(blocks)

    def _ranking_sentence(self, label: str, ranking: pd.DataFrame) -> str:
        groups = self._rank_groups(ranking)
        lead, rest = [], groups
        named = 0
        for group in groups:
            if named >= LEADERS:
                break
            lead.append(group)
            named += len(group[1])
        rest = groups[len(lead):]
        text = f"按累计排查重大事故隐患数量排名，{label}中" + "，".join(self._group_text(*g) for g in lead)
        if rest:
            tail = rest[-1]
            verb = "并列最后" if len(tail[1]) > 1 else "排名最后"
            text += f"；{_names(tail[1])}（{count(tail[2], '条')}）{verb}（第{tail[0]}位）"
        risers = ranking.dropna(subset=["rank_change"])
        risers = risers[risers["rank_change"].astype(float) > 0]
        if len(risers):
            best = risers.sort_values("rank_change", ascending=False, kind="stable").iloc[0]
            text += f"；排名上升最快的是{clean(best['unit'])}（上升{int(best['rank_change'])}位）"
        return text + "。"

    def _quota(self) -> list[Block]:
        f = self.f
        quarter = quarter_label(f.quarter)
        rule = (f"按照每季度各县（市、区）排查重大事故隐患不少于{QUOTA_COUNTY_HAZARDS}条、市直有关部门不少于"
                f"{QUOTA_DEPARTMENT_HAZARDS}条，每季度至少公布{QUOTA_TYPICAL_CASES}个典型执法案例的要求，")
        if f.quota.empty:
            return [Paragraph(rule + f"{quarter}暂无调度数据。")]
        quota = f.quota
        done = quota[~quota["behind"].astype(bool)]
        behind_hazards = quota[quota["behind_hazards"].astype(bool)]
        behind_cases = quota[quota["behind_cases"].astype(bool)]
        text = rule + f"{self.until}，{quarter}"
        if f.unit is not None:
            row = quota.iloc[0]
            text = rule + f"{self.until}，{self.scope}{quarter}"
            text += (f"排查重大事故隐患{count(row['hazards_found'], '条')}（任务{count(row['hazards_quota'], '条')}），"
                     f"公布典型执法案例{count(row['typical_cases'], '个')}，")
            text += "尚未完成季度任务。" if bool(row["behind"]) else "已完成季度任务。"
        else:
            text += ("已完成排查和典型案例任务的有" + _names(done["unit"]) + "；") if len(done) else "尚无单位完成季度任务；"
            if len(behind_hazards):
                text += "排查数量尚未达到季度任务的有" + _names(behind_hazards["unit"]) + "（详见下表）"
            else:
                text += "各单位排查数量均已达到季度任务"
            if len(behind_cases):
                text += "；尚未公布典型执法案例的有" + _names(behind_cases["unit"])
            text += "。"
        provisional = quota[quota["provisional"].astype(bool) | quota["cases_provisional"].astype(bool)]
        blocks: list[Block] = [Paragraph(text)]
        if len(provisional):
            blocks.append(Paragraph("说明：" + _names(provisional["unit"]) + "有月份未报送，其季度数据为暂定数。", "note"))
        blocks.append(Chart("quota", f"各县（市、区）{quarter}排查重大事故隐患任务完成情况（虚线为季度任务）"))
        blocks.append(Chart("quota_departments", f"市直部门{quarter}排查重大事故隐患任务完成情况（虚线为季度任务）"))
        listed = quota if f.unit is not None else quota[quota["behind"].astype(bool)]
        if len(listed):
            rows = []
            for r in listed.itertuples():
                notes = []
                missing = clean(r.missing_periods) or clean(r.cases_missing_periods)
                if missing:
                    months = "、".join(f"{int(p[5:7])}月" for p in missing.split(",") if len(p) == 7)
                    notes.append(f"缺{months}数据，暂定")
                rows.append((clean(r.unit), count(r.hazards_found), count(r.hazards_quota), count(r.typical_cases),
                             count(r.cases_quota), "；".join(notes)))
            title = f"{quarter}任务完成情况" if f.unit is not None else f"{quarter}尚未完成任务的单位"
            blocks.append(Table(("单位", "本季度排查（条）", "任务（条）", "典型案例（个）", "任务（个）", "说明"),
                                tuple(rows), title, (2.6, 2.1, 1.8, 2.1, 1.8, 2.6)))
        return blocks

    # -- 三、行业领域分布

    def sectors(self) -> tuple[Block, ...]:
        s = self.f.sectors
        if s.empty:
            return (Paragraph(f"{self.until}，{self.scope}隐患台账中暂无重大事故隐患。"),)
        ordered = s.sort_values("hazards", ascending=False, kind="stable")
        top = ordered.head(LEADERS)
        text = (f"从隐患台账看，{self.scope}在册重大事故隐患{number(self.f.kpis.ledger_hazards)}条，主要集中在"
                + "、".join(f"{sector_label(r.sector)}（{count(r.hazards, '条')}）" for r in top.itertuples())
                + "等行业领域")
        overdue = s[s["overdue"] > 0].sort_values("overdue", ascending=False, kind="stable").head(LEADERS)
        if len(overdue):
            text += "；逾期未整改隐患较多的是" + "、".join(
                f"{sector_label(r.sector)}（{count(r.overdue, '条')}）" for r in overdue.itertuples())
        rows = tuple((sector_label(r.sector), count(r.hazards), count(r.rectified), count(r.in_progress),
                      count(r.not_started), count(r.overdue), count(r.supervised)) for r in s.itertuples())
        return (Paragraph(text + "。"), Chart("sectors", "各行业领域重大事故隐患整改情况"),
                Table(("行业领域", "隐患（条）", "已整改", "整改中", "未整改", "逾期", "挂牌督办"), rows,
                      "重大事故隐患行业领域分布", (2.4, 1.4, 1.2, 1.2, 1.2, 1, 1.4)))

    # -- 四、执法检查情况

    def enforcement(self) -> tuple[Block, ...]:
        totals = self.f.enforcement_totals.set_index("key") if not self.f.enforcement_totals.empty else pd.DataFrame()
        if totals.empty or totals["cumulative"].isna().all():
            return (Paragraph(f"{self.until}，{self.scope}尚未报送执法检查数据。"),)

        def total(key, unit):
            return count(totals.at[key, "cumulative"], unit) if key in totals.index else MISSING

        def added(key, unit):
            return count(totals.at[key, "increment"], unit) if key in totals.index else MISSING

        text = (f"{self.until}，{self.scope}累计实施行政处罚{total('penalties', '次')}、罚款{total('fines_wan', '万元')}，"
                f"“一案双罚”{total('dual_penalties', '次')}，责令停产整顿{total('suspensions', '家')}，"
                f"移送司法机关{total('judicial_transfers', '人')}，曝光、约谈、联合惩戒企业{total('exposures', '家')}，"
                f"责任倒查追责问责{total('accountability', '人')}。")
        if "penalties" in totals.index and not is_missing(totals.at["penalties", "increment"]):
            text += (f"其中{int(self.f.period[5:7])}月新增行政处罚{added('penalties', '次')}、"
                     f"罚款{added('fines_wan', '万元')}，“一案双罚”{added('dual_penalties', '次')}，"
                     f"责令停产整顿{added('suspensions', '家')}。")
        blocks: list[Block] = [Paragraph(text)]
        blocks.append(Paragraph(f"{self.scope}累计公布典型执法案例{total('typical_cases', '个')}，"
                                f"其中危险作业罪案例{total('dangerous_op_cases', '个')}。"))
        per_unit = self.f.enforcement
        if self.f.unit is None and not per_unit.empty:
            leaders = []
            for key, label, unit in (("fines_wan", "罚款金额", "万元"), ("penalties", "行政处罚次数", "次"),
                                     ("typical_cases", "公布典型案例", "个")):
                top = per_unit.dropna(subset=[key]).sort_values(key, ascending=False, kind="stable").head(LEADERS)
                if len(top):
                    leaders.append(f"{label}较多的是" + "、".join(f"{clean(r['unit'])}（{count(r[key], unit)}）"
                                                            for _, r in top.iterrows()))
            if leaders:
                blocks.append(Paragraph("；".join(leaders) + "。"))
        blocks.append(Chart("enforcement", "各单位行政处罚次数"))
        if not per_unit.empty:
            keys = ("penalties", "fines_wan", "dual_penalties", "suspensions", "judicial_transfers", "typical_cases",
                    "dangerous_op_cases")
            rows = tuple((clean(r["unit"]), *(count(r.get(key)) for key in keys)) for _, r in per_unit.iterrows())
            blocks.append(Table(("单位", "行政处罚（次）", "罚款（万元）", "一案双罚（次）", "停产整顿（家）",
                                 "移送司法（人）", "典型案例（个）", "危险作业罪（个）"), rows,
                                "各单位执法检查情况（累计）", (2.6, 1.3, 1.3, 1.3, 1.3, 1.3, 1.3, 1.3)))
        return tuple(blocks)

    # -- 五、宣传培训和领导履职

    def training(self) -> tuple[Block, ...]:
        totals = self.f.training_totals
        if totals.empty or totals["cumulative"].isna().all():
            return (Paragraph(f"{self.until}，{self.scope}尚未报送宣传培训和领导履职数据。"),)
        phrases = {
            "study_sessions": ("县级党委政府组织专题学习安全生产十五条硬措施", "次"),
            "leader_research": ("县级党委政府主要负责同志专题研究", "次"),
            "onsite_supervision": ("县级政府负责同志现场督导检查", "次"),
            "lectures": ("安委会成员单位负责同志到企业宣讲", "次"),
            "enforcer_training": ("执法人员专题培训", "人次"),
            "assist_areas": ("帮扶指导重点地区", "个次"),
            "assist_enterprises": ("帮扶指导重点企业", "家次"),
            "interviews": ("约谈通报有关地区及部门", "次"),
            "inspections": ("组织开展考核巡查督导检查", "次"),
        }
        parts = []
        for r in totals.itertuples():
            if is_missing(r.cumulative):
                continue
            label, unit = phrases.get(r.key, (INDICATOR_BY_KEY[r.key].label if r.key in INDICATOR_BY_KEY else r.key, ""))
            parts.append(f"{label}{count(r.cumulative, unit)}")
        blocks: list[Block] = [Paragraph(f"{self.until}，{self.scope}累计" + "，".join(parts) + "。")]
        per_unit = self.f.training
        if self.f.unit is None and not per_unit.empty and "lectures" in per_unit.columns:
            top = per_unit.dropna(subset=["lectures"]).sort_values("lectures", ascending=False, kind="stable").head(LEADERS)
            if len(top):
                blocks.append(Paragraph("负责同志到企业宣讲次数较多的是" + "、".join(
                    f"{clean(r['unit'])}（{count(r['lectures'], '次')}）" for _, r in top.iterrows()) + "。"))
        return tuple(blocks)

    # -- 六、逾期和挂牌督办隐患

    def overdue(self) -> tuple[Block, ...]:
        f, k = self.f, self.f.kpis
        date = chinese_date(f.as_of)
        if f.hazards.empty:
            return (Paragraph(f"{self.until}，{self.scope}隐患台账中暂无重大事故隐患，无逾期和挂牌督办隐患。"),)
        blocks: list[Block] = []
        if f.overdue.empty:
            blocks.append(Paragraph(f"截至统计日（{date}），{self.scope}台账中没有逾期未整改的重大事故隐患。"))
        else:
            blocks.append(Paragraph(f"截至统计日（{date}），{self.scope}台账中已过整改期限仍未完成整改的重大事故隐患"
                                    f"{number(k.overdue)}条，逾期时间最长的列于下表，请有关单位督促整改、按期销号。"))
            rows = []
            for i, r in enumerate(f.overdue.head(OVERDUE_LISTED).itertuples(), start=1):
                rows.append((str(i), clean(r.unit), clean(r.enterprise), clean(r.description), _deadline(r.deadline),
                             clean(r.progress_raw) or STATUS_LABELS.get(clean(r.status), clean(r.status)),
                             SUPERVISION_LABELS.get(clean(r.supervision_level), clean(r.supervision_level))))
            blocks.append(self._own_rows(Table(("序号", "单位", "企业（项目）", "隐患描述", "整改期限", "整改进展",
                                                "督办层级"), tuple(rows), "逾期未整改重大事故隐患",
                                               (0.9, 1.8, 3, 3.6, 2, 1.7, 1.7))))
            rest = change(k.overdue, len(rows))
            if rest is not None and rest > 0:
                blocks.append(Paragraph(f"另有{number(rest)}条逾期隐患未列出，详见Excel汇总表。", "note"))
        supervised = (k.ledger_supervised_province + k.ledger_supervised_city + k.ledger_supervised_county) > 0
        if not supervised:
            blocks.append(Paragraph(f"{self.scope}台账中暂无挂牌督办的重大事故隐患。"))
            return tuple(blocks)
        rule = (f"按照市级挂牌督办隐患{SUPERVISION_PROGRESS_DAYS['city']}日内、县级挂牌督办隐患"
                f"{SUPERVISION_PROGRESS_DAYS['county']}日内取得实质性进展的要求，")
        text = (f"{self.scope}台账中挂牌督办重大事故隐患省级{number(k.ledger_supervised_province)}条、"
                f"市级{number(k.ledger_supervised_city)}条、县级{number(k.ledger_supervised_county)}条。" + rule)
        if f.stalled.empty:
            blocks.append(Paragraph(text + "截至统计日，没有超过时限未取得实质性进展的挂牌督办隐患。"))
            return tuple(blocks)
        units = list(dict.fromkeys(clean(u) for u in f.stalled["unit"]))
        blocks.append(Paragraph(text + f"截至统计日，{_names(units)}有挂牌督办隐患超过时限仍未取得实质性进展"
                                       "（整改状态和进展与督办之初相同），请相关单位说明情况、限期整改。"))
        rows = tuple((clean(r.unit), clean(r.enterprise), clean(r.description),
                      SUPERVISION_LABELS.get(clean(r.supervision_level), clean(r.supervision_level)),
                      _deadline(r.supervised_since), count(r.days_supervised), count(r.limit_days))
                     for r in f.stalled.itertuples())
        blocks.append(self._own_rows(Table(("单位", "企业（项目）", "隐患描述", "督办层级", "督办起始", "已督办（天）",
                                            "时限（天）"), rows, "超过时限未取得实质性进展的挂牌督办隐患",
                                           (1.8, 3, 3.6, 1.7, 2, 1.5, 1.3))))
        return tuple(blocks)

    def _own_rows(self, table: Table) -> Table:
        """A unit's pack lists only its own hazards: the 单位 column goes."""
        if self.f.unit is None or "单位" not in table.headers:
            return table
        drop = table.headers.index("单位")

        def keep(values):
            return tuple(value for i, value in enumerate(values) if i != drop)
        return Table(keep(table.headers), tuple(keep(row) for row in table.rows), table.title, keep(table.widths))

    # -- 七、工作批注

    def annotations(self) -> tuple[Block, ...]:
        notes = self.f.annotations
        if notes is None or notes.empty:
            return (Paragraph("本期无工作批注。"),)
        blocks: list[Block] = []
        for i, (_, r) in enumerate(notes.iterrows(), start=1):
            body = plain_markdown(r.get("text"))
            if not body:
                continue
            subject = _annotation_subject(r, self.f.hazards)
            facts = []
            for key, label in (("tag", "标签"), ("author", "批注人")):
                value = clean(r.get(key))
                if value:
                    facts.append(f"{label}：{value}")
            status = clean(r.get("status"))
            if status:
                facts.append({"open": "待办", "resolved": "已办结"}.get(status, status))
            follow = r.get("follow_up")
            if not is_missing(follow) and clean(follow):
                facts.append(f"跟进日期：{_deadline(follow)}")
            if bool(r.get("orphaned")) and not is_missing(r.get("orphaned")):
                facts.append("所批注对象已不在本期数据中")
            head = f"{_ordinal(len(blocks) + 1)}{subject}" + (f"（{'，'.join(facts)}）" if facts else "")
            blocks.append(Paragraph(f"{head}：{body}"))
        return tuple(blocks) or (Paragraph("本期无工作批注。"),)


def _ordinal(i: int) -> str:
    digits = "一二三四五六七八九十"
    if i <= 10:
        return f"（{digits[i - 1]}）"
    return f"（{i}）"


def _annotation_subject(row: pd.Series, hazards: pd.DataFrame) -> str:
    """What an annotation is about, in words: the unit, the hazard (its enterprise and description when the
    pack lists it), the figure or the page. The store names the kind ``kind``; ``subject_kind`` also works."""
    kind = clean(row.get("kind")) or clean(row.get("subject_kind"))
    unit = clean(row.get("unit"))
    if kind == "hazard":
        hazard_id = clean(row.get("hazard_id"))
        known = hazards[hazards["hazard_id"] == hazard_id] if hazard_id and "hazard_id" in hazards.columns else hazards[0:0]
        if len(known):
            hazard = known.iloc[0]
            unit = unit or clean(hazard.get("unit"))
            what = "：".join(part for part in (clean(hazard.get("enterprise")), clean(hazard.get("description"))) if part)
        else:
            what = clean(row.get("enterprise")) or clean(row.get("description")) or (hazard_id and f"编号{hazard_id}")
        return "隐患（" + "，".join(part for part in (unit, what) if part) + "）" if (unit or what) else "隐患"
    if kind == "figure":
        key = clean(row.get("indicator"))
        label = INDICATOR_BY_KEY[key].label if key in INDICATOR_BY_KEY else key
        period = clean(row.get("period"))
        return "".join(part for part in (unit, period and f"{period}期", label and f"“{label}”") if part) or "统计数据"
    if kind == "view":
        page, query = clean(row.get("page")), clean(row.get("query"))
        return f"页面“{page}”" + (f"（{query}）" if query else "") if page else "页面"
    return unit or "全市"


def _delta(value: float | None, unit: str) -> str:
    if value is None:
        return "无可比数据"
    if value > 0:
        return f"增加{number(value)}{unit}"
    if value < 0:
        return f"减少{number(-value)}{unit}"
    return "无变化"


def _deadline(value: object) -> str:
    if is_missing(value):
        return "无明确期限"
    if isinstance(value, (dt.date, pd.Timestamp)):
        return pd.Timestamp(value).strftime("%Y-%m-%d")
    return clean(value)


def _ranking_table(title: str, ranking: pd.DataFrame) -> Table:
    rows = tuple((str(int(r.rank)), clean(r.unit), count(r.value), rank_change_text(r.rank_change) or "新进")
                 for r in ranking.itertuples())
    return Table(("排名", "单位", "累计排查重大事故隐患（条）", "较上期"), rows, title, (1, 3, 3, 1.5))
