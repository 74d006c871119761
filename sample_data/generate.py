"""Seeded generator of sample campaign workbooks and their ground truth (manifest.json).

    python -m sample_data.generate --out sample_data/campaign --seed 2023
    python -m sample_data.generate --scale province --out /tmp/province --seed 1

``build_plan`` decides everything (hazards, figures, file layouts, planted findings)
from the seed without touching the disk; ``write_plan`` writes the workbooks. The
manifest describes what a correct loader must read back from the files.
"""

from __future__ import annotations

import argparse
import calendar
import difflib
import json
import multiprocessing
import random
import shutil
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from functools import partial
from pathlib import Path
from typing import Callable

from openpyxl import Workbook
from openpyxl.worksheet.worksheet import Worksheet

from loaders.reference import (
    COUNTIES, DEPARTMENTS, INDICATORS, SECTORS, ZONES, PART_WHOLE_PAIRS, unit_type_of,
)
from sample_data import writers

MANIFEST_NAME = "manifest.json"
MANIFEST_VERSION = 1
# Overdue hazards are counted as on the day the last forms are due.
OVERDUE_AS_OF = date(2024, 1, 23)

# ---------------------------------------------------------------- vocabulary

_BRANDS = (
    "宏达", "鑫源", "恒通", "华泰", "远航", "金盛", "瑞丰", "永安", "嘉和", "润发", "新天地", "顺通", "荣华",
    "东方", "长兴", "天成", "汇丰", "博远", "兴旺", "联创", "宝利", "盛世", "佳美", "中联", "立信", "众鑫",
    "赣南", "客家", "章江", "贡水", "红都", "翠微", "峰山", "通天岩", "南方", "旭日",
)
# Enterprise name endings and typical hazards per sector; descriptions follow the plan's focus.
_ENTERPRISE_SUFFIXES = {
    "road_traffic": ("运输有限公司", "客运有限公司", "物流有限公司", "公交有限公司"),
    "fire": ("商贸城", "大酒店", "购物广场", "幼儿园", "养老院", "家具厂", "KTV"),
    "construction": ("小区建设项目", "安置房项目", "综合楼工程", "道路改造工程", "学校新建工程"),
    "mining": ("矿业有限公司", "采石场", "稀土矿", "尾矿库"),
    "hazardous_chemicals": ("化工有限公司", "加油站", "危险品仓储有限公司", "氟化工有限公司"),
    "industry_trade": ("钢铁有限公司", "木业有限公司", "食品有限公司", "机械制造有限公司", "铝业有限公司"),
    "urban_gas": ("燃气有限公司", "液化气站", "餐饮店", "美食城"),
    "special_equipment": ("电梯工程有限公司", "物业管理有限公司", "游乐园", "锅炉厂"),
    "agriculture": ("农机合作社", "养殖场", "渔业合作社", "沼气站"),
    "other": ("职业技术学校", "文化旅游有限公司", "医院"),
}
_PROBLEMS = {
    "road_traffic": ("重点车辆超载超限运输", "驾驶人疲劳驾驶未纠正", "危化品运输车辆未安装卫星定位装置",
                     "急弯陡坡路段未设置警示标志和防护栏", "营运客车未按规定进行安全技术检验"),
    "fire": ("消防车通道被占用堵塞", "电动车室内停放充电", "违规设置易燃可燃彩钢板房", "生产经营场所违规住人",
             "安全出口锁闭", "自动喷水灭火系统瘫痪"),
    "construction": ("危大工程未编制专项施工方案", "特种作业人员无证上岗", "临边洞口防护缺失",
                     "高支模未经验收即浇筑", "深基坑未按方案支护", "塔吊基础积水未处理"),
    "mining": ("未按设计组织生产", "提升运输设备未检测检验", "通风系统不完善", "尾矿库擅自加高坝体",
               "露天边坡未进行稳定性分析"),
    "hazardous_chemicals": ("重大危险源未实现在线监测", "动火作业未审批", "老旧装置带病运行",
                            "液化烃储罐未设置紧急切断", "剧毒物料未双人双锁管理"),
    "industry_trade": ("粉尘涉爆场所未设置泄爆装置", "有限空间作业未审批", "煤气区域未设置固定式报警仪",
                       "金属熔融吊运设备未采用冶金起重机", "钢结构筒形仓未定期检测"),
    "urban_gas": ("燃气管道被违规占压", "餐饮场所违规使用气瓶", "未安装燃气泄漏报警器", "违规设置气瓶间",
                  "使用不合格连接软管"),
    "special_equipment": ("电梯超期未检验", "起重机械安全保护装置失效", "压力容器未定期检验",
                          "大型游乐设施未进行日常检查", "锅炉安全阀失效"),
    "agriculture": ("农机带病作业", "渔业船舶未配备救生设备", "沼气池未设置防护盖板", "化粪池有限空间无警示标志"),
    "other": ("学生宿舍安全出口不足", "游客集中区域护栏缺失", "实验室危化品存放混乱"),
}
_PLACES = ("1号厂房", "2号仓库", "配电房", "员工宿舍", "生产车间", "仓储区", "主体工地", "地下室", "东侧通道",
           "3号楼", "办公楼", "北区", "原料库", "场区", "K12+300处", "停车场")
_MEASURES = ("立即停产整改，完善安全设施", "制定整改方案，落实资金和责任人", "责令限期整改，整改前采取临时管控措施",
             "清理占用物，加强日常巡查", "委托专业机构检测，更换不合格设备", "组织专项培训，持证上岗")
# Which sectors each unit type finds hazards in, and how often (fire, construction and
# road traffic dominate as in the plan).
_COUNTY_SECTOR_WEIGHTS = {
    "fire": 25, "construction": 20, "road_traffic": 18, "industry_trade": 10, "urban_gas": 8,
    "hazardous_chemicals": 7, "special_equipment": 6, "mining": 4, "agriculture": 2,
}
_DEPARTMENT_SECTORS = {
    "市应急管理局": ("hazardous_chemicals", "mining", "industry_trade"),
    "市公安局交警支队": ("road_traffic",),
    "市消防救援支队": ("fire",),
    "市住建局": ("construction", "urban_gas"),
    "市交通运输局": ("road_traffic",),
    "市市场监管局": ("special_equipment",),
    "市城管局": ("urban_gas",),
    "市农业农村局": ("agriculture",),
    "市工信局": ("industry_trade",),
    "市水利局": ("other",),
    "市商务局": ("other",),
    "市教育局": ("other",),
    "市文广新旅局": ("fire",),
}
_SECTOR_SPELLINGS = {s.key: (s.label,) + s.spellings for s in SECTORS}
UNKNOWN_SECTOR_SPELLING = "校园安全"
_PROGRESS_WORDS = {
    "not_started": ("未整改", "尚未整改", "未开始"),
    "in_progress": ("整改中", "正在整改", "已完成60%", "已完成30%"),
    "rectified": ("已整改", "已完成整改", "整改完成", "已销号"),
}
_NOT_REPORTED = ("—", "无", "/", None)
_UNIT_LABELS = {i.key: i.unit_label for i in INDICATORS}
# Keys a planted finding is about: they are always reported.
_PAIR_MEMBERS = frozenset(key for form in (3, 4) for item in writers.form_items(form)
                          for key in writers.pair_keys(item) or ())
_PROTECTED_KEYS = frozenset({"checked_enterprises", "dept_rectified", "dept_found", "self_found", "penalties"})
# Heading rows of a ledger grouped by sector ("一、消防安全（3条）"): one raw spelling per sector.
_GROUP_HEADINGS = {
    "fire": "消防安全", "construction": "房屋市政工程", "road_traffic": "道路交通安全", "urban_gas": "城镇燃气",
    "hazardous_chemicals": "危险化学品", "industry_trade": "工贸", "special_equipment": "特种设备",
    "mining": "非煤矿山", "agriculture": "农业生产", "other": "其他",
}
_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗钟曾谢邱廖"
_GIVEN = "建国华明伟芳军平强丽勇燕杰涛斌超辉敏刚文海波红霞"

# Stage-dependent share of a unit's hazards found in each month (May..Dec, then on).
_MONTH_WEIGHTS = (0.4, 1.0, 1.0, 1.3, 1.3, 1.3, 1.3, 0.6)

# ---------------------------------------------------------------- scales


@dataclass(frozen=True)
class Scale:
    name: str
    periods: tuple[str, ...]
    hazards_per_county: int  # expected total by the end, before the unit's activity factor
    hazards_per_department: int
    deadline_styles: tuple[str, ...]
    list_hazards: bool  # write every hazard into the manifest
    synthetic_counties: int = 0


def _periods(first: str, count: int) -> tuple[str, ...]:
    year, month = map(int, first.split("-"))
    out = []
    for _ in range(count):
        out.append(f"{year}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return tuple(out)


_ALL_DEADLINE_STYLES = ("date", "date", "dotted", "slashed", "chinese", "month_end", "long_term", "immediate")
SCALES = {
    "campaign": Scale("campaign", _periods("2023-05", 8), 40, 14, _ALL_DEADLINE_STYLES, True),
    # The campaign's eight months, as the contract's window holds them (months after December are
    # held aside); "8月底前" is left to the campaign scale, whose generator checks the year rule.
    "province": Scale("province", _periods("2023-05", 8), 1000, 1000,
                      ("date", "date", "dotted", "slashed", "chinese", "long_term"), False, synthetic_counties=66),
    # The province's 100 units over the campaign's last five months (the planted findings name the
    # fifth), a few dozen hazards each: the browser tests' province-scale pages
    # (tests/browser/test_province_scale.py) in seconds.
    "province-quick": Scale("province-quick", _periods("2023-08", 5), 30, 30, ("date", "dotted", "long_term"), False,
                            synthetic_counties=66),
}
CAMPAIGN_DEPARTMENTS = DEPARTMENTS[:8]
CAMPAIGN_ZONES = ZONES[:2]

# ---------------------------------------------------------------- model


@dataclass
class Hazard:
    unit: str
    enterprise: str
    sector: str
    sector_raw: str | None
    description: str
    measures: str
    supervision_level: str
    supervision_raw: str | None
    deadline: date | None
    deadline_raw: object
    found_index: int
    found_by: str  # self | dept
    rectified_after: int | None  # months after it was found; None: never within the campaign
    words: dict[str, str]  # status -> the progress spelling this hazard's officer uses
    # Reworded from this period index on: (index, the new description); hazard_id keeps the first text.
    reworded: tuple[int, str] | None = None
    supplement: bool = False  # listed only in a 补报 ledger, not in the unit's regular one

    def description_at(self, index: int) -> str:
        if self.reworded is not None and index >= self.reworded[0]:
            return self.reworded[1]
        return self.description

    def status(self, index: int) -> str:
        months = index - self.found_index
        if self.rectified_after is not None and months >= self.rectified_after:
            return "rectified"
        return "in_progress" if months >= 1 else "not_started"


@dataclass
class Habits:
    """How one office fills and names its files, stable from month to month."""
    label: str  # how the office writes its own name
    naming: str  # unit_period | unit_month | generic
    together: bool  # ledger and form as two sheets of one file
    new_only: bool  # the ledger lists only the month's new hazards
    header_rows: int
    wrap_headers: bool
    merge_unit_column: bool
    total_row: bool
    note_row: bool
    pair_style: str
    value_style: str  # int | text | fullwidth | units | padded
    extra_sheet: str | None
    title_period: bool
    wide_form: bool = False


@dataclass
class SheetPlan:
    name: str
    write: Callable[[Worksheet], object]
    manifest: dict


@dataclass
class FilePlan:
    path: str
    sheets: list[SheetPlan] = field(default_factory=list)
    raw_bytes: bytes | None = None  # a file that is not a workbook at all
    problem: str | None = None


@dataclass
class Plan:
    files: list[FilePlan]
    manifest: dict


def _last_day(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def _period_ym(period: str) -> tuple[int, int]:
    year, month = period.split("-")
    return int(year), int(month)


def _filing_month(period: str) -> tuple[int, int]:
    """Forms for a month are filed in the next month (by the 23rd)."""
    year, month = _period_ym(period)
    return (year + 1, 1) if month == 12 else (year, month + 1)


def _yearless_year(period: str, month: int) -> int:
    """The year the contract gives a month and day without a year in a report of ``period``:
    the report's year, unless that falls more than two months before the report period."""
    year, report_month = _period_ym(period)
    return year + 1 if report_month - month > 2 else year


def _yearless_safe(deadline: date, listed_in: list[str]) -> bool:
    """A year-less spelling of deadline reads back as deadline in every listed period, with a
    margin (one month, or three for next year) around the rule's boundary."""
    for period in listed_in:
        year, report_month = _period_ym(period)
        if deadline.year == year and report_month - deadline.month <= 1:
            continue
        if deadline.year == year + 1 and report_month - deadline.month >= 3:
            continue
        return False
    return True


def excel_serial(day: date) -> int:
    return (day - date(1899, 12, 30)).days


def _fullwidth(text: str) -> str:
    return text.translate(str.maketrans("0123456789", "０１２３４５６７８９"))


def _similar(a: str, b: str) -> bool:
    """Close enough that a loader might ask whether two descriptions are one hazard."""
    return difflib.SequenceMatcher(None, a, b).ratio() >= 0.55


def _number_text(value: float | int) -> str:
    return f"{value:g}"


class _Builder:
    """Builds a Plan; one instance per run so that all randomness flows from one seed."""

    def __init__(self, seed: int, scale: Scale):
        self.rng = random.Random(seed)
        self.seed = seed
        self.scale = scale
        self.periods = scale.periods
        self.units = self._units()
        self.hazards: list[Hazard] = []
        self.findings: list[dict] = []
        self.files: list[FilePlan] = []
        self.city_doc_number = 0
        self.used_names: dict[str, set[str]] = {}
        self.habits = self._habits()
        self.last_listed: dict[int, int] = {}  # id(hazard) -> index of the last period listing it
        # The cases of the contract's "Periods, resends and corrections" and layouts (campaign scale
        # only): decided by their own generator, so that they leave the rest of the plan alone.
        self.case_rng = random.Random(seed * 7919 + 11)
        self.cases: dict[str, object] = {}
        self.planted: set[int] = set()  # id() of hazards a planted finding or a case is about
        self.form_overrides: dict[tuple[str, int], dict[str, str]] = {}  # raw cell templates
        self.form_names: dict[tuple[str, int], tuple[str, int]] = {}  # file name, filing day
        self.grouped_ledgers: dict[tuple[str, int], str] = {}
        self.supplement_at: tuple[str, int] | None = None
        self.typo_year_at: tuple[str, int] | None = None
        zones = [u for u in self.units if unit_type_of(u) == "zone"][:2]
        # From September the two zones file one joint 汇总表 instead of their own forms.
        joint_from = 4 if scale.name == "campaign" else len(self.periods)
        self.joint_zone_filings = {index: zones for index in range(joint_from, len(self.periods))}

    # ------------------------------------------------------------ units and habits

    def _units(self) -> list[str]:
        if self.scale.name == "campaign":
            return list(COUNTIES) + list(CAMPAIGN_ZONES) + list(CAMPAIGN_DEPARTMENTS)
        syllables = "安宁和平丰乐泰兴隆昌永福瑞康华阳新清源江山云石桥溪"
        synthetic: list[str] = []
        while len(synthetic) < self.scale.synthetic_counties:
            name = self.rng.choice(syllables) + self.rng.choice(syllables) + self.rng.choice("县区")
            if name not in synthetic and name[:2] not in {c[:2] for c in COUNTIES}:
                synthetic.append(name)
        return list(COUNTIES) + list(ZONES) + list(DEPARTMENTS) + synthetic

    def _habits(self) -> dict[str, Habits]:
        loose_labels = {"龙南市": "龙南县", "章贡区": "章贡", "赣州经开区": "经开区", "市住建局": "赣州市住建局",
                        "信丰县": "信丰县安委会", "市消防救援支队": "消防支队"}
        fixed_naming = {"章贡区": "unit_period", "南康区": "unit_month"}
        new_only = {"于都县", "会昌县", "市农业农村局"}
        value_styles = ("int", "int", "text", "fullwidth", "units", "padded")
        habits = {}
        for index, unit in enumerate(self.units):
            plain = self.scale.name != "campaign"
            habits[unit] = Habits(
                label=unit if plain else loose_labels.get(unit, unit),
                naming="unit_period" if plain else fixed_naming.get(unit, ("generic", "unit_period", "unit_month")[index % 3]),
                together=not plain and index % 5 == 2,
                new_only=not plain and unit in new_only,
                header_rows=1 + index % 2,
                wrap_headers=index % 3 == 0,
                merge_unit_column=index % 4 == 1,
                total_row=not plain and index % 6 == 3,
                note_row=not plain and index % 7 == 4,
                pair_style=writers.PAIR_STYLES[index % 3],
                value_style="int" if plain else value_styles[index % len(value_styles)],
                extra_sheet=None if plain else (None, "Sheet2", None, "填报说明")[index % 4],
                title_period=index % 2 == 0,
                wide_form=not plain and unit == "市城管局",
            )
        return habits

    def _activity(self, unit: str) -> float:
        """Some counties lag far behind; big counties find more."""
        if unit in ("全南县", "石城县", "寻乌县"):
            return 0.3
        if unit in ("章贡区", "南康区", "于都县", "瑞金市"):
            return 1.5
        return self.rng.uniform(0.7, 1.2)

    # ------------------------------------------------------------ hazards

    def _name(self, unit: str, sector: str) -> str:
        place = unit if unit_type_of(unit) != "department" else self.rng.choice(COUNTIES)
        return place + self.rng.choice(_BRANDS) + self.rng.choice(_ENTERPRISE_SUFFIXES[sector])

    def _new_hazard(self, unit: str, index: int, enterprises: dict[str, list[str]]) -> Hazard:
        rng = self.rng
        is_department = unit_type_of(unit) == "department"
        if is_department:
            sector = rng.choice(_DEPARTMENT_SECTORS[unit])
        else:
            sector = rng.choices(list(_COUNTY_SECTOR_WEIGHTS), weights=list(_COUNTY_SECTOR_WEIGHTS.values()))[0]
        pool = enterprises.setdefault(sector, [])
        enterprise = rng.choice(pool) if pool and rng.random() < 0.35 else self._name(unit, sector)
        if enterprise not in pool:
            pool.append(enterprise)
        names = self.used_names.setdefault(unit + enterprise, set())
        description = rng.choice(_PLACES) + rng.choice(_PROBLEMS[sector])
        while description in names:
            description = rng.choice(_PLACES) + rng.choice(_PROBLEMS[sector]) + f"（第{len(names) + 1}处）"
        if self.habits[unit].new_only and self.scale.name == "campaign":
            # A ledger of new hazards only drops last month's: two nearly equal texts at one
            # enterprise would read as one hazard reworded. Officers keep them apart.
            tries = 0
            while any(_similar(description, other) for other in names):
                tries += 1
                if tries > 30:
                    enterprise = self._name(unit, sector) + f"（{len(pool) + 1}）"
                    pool.append(enterprise)
                    names = self.used_names.setdefault(unit + enterprise, set())
                    break
                description = rng.choice(_PLACES) + rng.choice(_PROBLEMS[sector])
        names.add(description)

        spellings = _SECTOR_SPELLINGS[sector]
        sector_raw = spellings[0] if rng.random() < 0.7 else rng.choice(spellings)
        level = rng.choices(("none", "county", "city", "province"), weights=(82, 10, 7, 1))[0]
        if is_department and level == "county":
            level = "city"
        year, month = _period_ym(self.periods[index])
        found_on = _last_day(year, month)
        rectified_after = rng.choices((0, 1, 2, 3, 4, None), weights=(20, 25, 20, 10, 5, 20))[0]
        style = rng.choice(self.scale.deadline_styles)
        if rectified_after == 0 and "immediate" in self.scale.deadline_styles and rng.random() < 0.5:
            style = "immediate"
        deadline, deadline_raw = self._deadline(found_on, style, self._listed_in(unit, index))
        return Hazard(
            unit=unit, enterprise=enterprise, sector=sector, sector_raw=sector_raw,
            description=description, measures=rng.choice(_MEASURES),
            supervision_level=level, supervision_raw=self._supervision_text(level, unit),
            deadline=deadline, deadline_raw=deadline_raw, found_index=index,
            found_by="dept" if is_department or rng.random() < 0.45 else "self",
            rectified_after=rectified_after,
            words={status: rng.choice(words) for status, words in _PROGRESS_WORDS.items()},
        )

    def _listed_in(self, unit: str, index: int) -> list[str]:
        """The periods whose ledgers list a hazard the unit finds in period index."""
        return [self.periods[index]] if self.habits[unit].new_only else list(self.periods[index:])

    def _deadline(self, found_on: date, style: str, listed_in: list[str]) -> tuple[date | None, object]:
        if style == "immediate":
            return None, "立即整改"
        if style == "long_term":
            return None, "长期"
        months_ahead = self.rng.choice((0, 1, 1, 2, 3))
        year, month = found_on.year, found_on.month + months_ahead
        year, month = year + (month - 1) // 12, (month - 1) % 12 + 1
        if style == "month_end":
            if year != found_on.year:
                year, month = found_on.year, 12
            # "8月底前" takes its year by the contract's rule in each ledger that repeats it: a
            # December ledger's "8月底前" would be 2024-08-31. Officers who repeat a hazard
            # write the year then.
            if _yearless_safe(_last_day(year, month), listed_in):
                return _last_day(year, month), f"{month}月底前"
            return _last_day(year, month), f"{year}年{month}月{_last_day(year, month).day}日"
        day = self.rng.choice((10, 15, 20, 25, 30)) if month != 2 else 28
        deadline = date(year, month, day)
        raw = {
            "date": deadline,
            "dotted": f"{year}.{month}.{day}",
            "slashed": f"{year}/{month}/{day}",
            "chinese": f"{year}年{month}月{day}日",
        }[style]
        return deadline, raw

    def _supervision_text(self, level: str, unit: str) -> str | None:
        if level == "city":
            self.city_doc_number += 1
            return f"市级挂牌督办 赣市安办字〔2023〕{self.city_doc_number}号"
        if level == "county":
            return self.rng.choice(("县级督办", f"县级挂牌督办（{unit[:2]}安办字〔2023〕{self.rng.randint(1, 90)}号）"))
        if level == "province":
            return "省级挂牌督办"
        return self.rng.choice(("无", "/", None, "无"))

    def _generate_hazards(self) -> None:
        weights = list(_MONTH_WEIGHTS) + [1.0] * (len(self.periods) - len(_MONTH_WEIGHTS))
        total_weight = sum(weights[:len(self.periods)])
        for unit in self.units:
            is_department = unit_type_of(unit) == "department"
            expected = (self.scale.hazards_per_department if is_department else self.scale.hazards_per_county)
            expected *= self._activity(unit)
            enterprises: dict[str, list[str]] = {}
            for index in range(len(self.periods)):
                mean = expected * weights[index] / total_weight
                count = max(0, round(self.rng.gauss(mean, mean ** 0.5)))
                self.hazards.extend(self._new_hazard(unit, index, enterprises) for _ in range(count))
        if not any(h.supervision_level == "province" for h in self.hazards):
            self.hazards[len(self.hazards) // 2].supervision_level = "province"
            self.hazards[len(self.hazards) // 2].supervision_raw = "省级挂牌督办"

    def _plant_hazard_findings(self) -> None:
        """Hazards missing a deadline or a sector, and an unknown sector spelling."""
        county_hazards = [h for h in self.hazards if unit_type_of(h.unit) == "county"]
        picks = self.rng.sample(county_hazards, 6)
        for hazard in picks[:2]:
            hazard.deadline, hazard.deadline_raw = None, None
            self._finding("missing_deadline", hazard.unit, hazard=hazard)
        for hazard in picks[2:4]:
            hazard.sector, hazard.sector_raw = "other", None
            self._finding("missing_sector", hazard.unit, hazard=hazard)
        for hazard in picks[4:]:
            hazard.sector, hazard.sector_raw = "other", UNKNOWN_SECTOR_SPELLING
            self._finding("unknown_sector", hazard.unit, hazard=hazard, raw=UNKNOWN_SECTOR_SPELLING)

    def _finding(self, kind: str, unit: str, *, hazard: Hazard | None = None, **details: object) -> None:
        entry: dict = {"kind": kind, "unit": unit, **details}
        if hazard is not None:
            self.planted.add(id(hazard))
            entry.update(enterprise=hazard.enterprise, description=hazard.description,
                         first_period=self.periods[hazard.found_index])
        self.findings.append(entry)

    # ------------------------------------------------------------ form figures

    def _true_figures(self) -> dict[str, list[dict[str, object]]]:
        """Cumulative indicator values per unit and period index, before any planted error."""
        by_unit: dict[str, list[Hazard]] = {}
        for hazard in self.hazards:
            by_unit.setdefault(hazard.unit, []).append(hazard)
        figures = {}
        for unit in self.units:
            form = 4 if unit_type_of(unit) == "department" else 3
            keys = [i for i in INDICATORS if form in i.forms]
            running = {i.key: 0 for i in keys}
            enterprises = self.rng.randint(300, 3000)
            media_from = self.rng.randint(0, len(self.periods))
            unit_rows = []
            for index in range(len(self.periods)):
                found = [h for h in by_unit.get(unit, []) if h.found_index <= index]
                rectified = [h for h in found if h.status(index) == "rectified"]
                supervised = [h for h in found if h.supervision_level != "none"]
                row = {
                    "enterprises": enterprises,
                    "self_found": sum(h.found_by == "self" for h in found),
                    "self_rectified": sum(h.found_by == "self" for h in rectified),
                    "dept_found": sum(h.found_by == "dept" for h in found),
                    "dept_rectified": sum(h.found_by == "dept" for h in rectified),
                    "supervised": len(supervised),
                    "supervised_rectified": sum(h.status(index) == "rectified" for h in supervised),
                    "media_column": index >= media_from,
                }
                for indicator in keys:
                    if indicator.key in row:
                        continue
                    if indicator.kind == "money":
                        running[indicator.key] = round(running[indicator.key] + self.rng.choice((0, 0, 1.5, 3.2, 6.8)), 1)
                    else:
                        running[indicator.key] += self.rng.randint(0, 12 if indicator.key.endswith("enterprises") else 3)
                    row[indicator.key] = running[indicator.key]
                # Parts never exceed their whole in the true figures.
                for part, whole in PART_WHOLE_PAIRS:
                    if part in row and whole in row and row[part] > row[whole]:
                        row[part] = running[part] = row[whole]
                row = {i.key: row[i.key] for i in keys}
                unit_rows.append(row)
            figures[unit] = unit_rows
        return figures

    def _plant_figure_findings(self, figures: dict[str, list[dict]]) -> dict[tuple[str, int], dict]:
        """Planted errors in the reported figures; returns the superseded first filings."""
        # A cumulative value that falls.
        unit, key, index = "信丰县", "checked_enterprises", 4
        previous = figures[unit][index - 1][key]
        figures[unit][index][key] = max(0, previous - 5)
        self._finding("cumulative_falls", unit, indicator=key, period=self.periods[index],
                      previous_period=self.periods[index - 1], previous=previous, value=figures[unit][index][key])
        # Rectified above found, in the last period so the next month cannot fall back.
        unit, last = "大余县", len(self.periods) - 1
        row = figures[unit][last]
        row["dept_rectified"] = row["dept_found"] + 2
        self._finding("rectified_exceeds_found", unit, period=self.periods[last], indicator="dept_rectified",
                      value=row["dept_rectified"], whole="dept_found", whole_value=row["dept_found"])
        # A ledger that clearly disagrees with the form: the form counts 25 hazards more.
        unit = "宁都县"
        for row in figures[unit][2:]:
            row["self_found"] += 25
        final = figures[unit][-1]
        ledger_count = sum(h.unit == unit for h in self.hazards)
        self._finding("ledger_form_mismatch", unit, period=self.periods[-1], ledger_hazards=ledger_count,
                      form_found=final["self_found"] + final["dept_found"])
        # One unit-period sent twice: the first filing had lower figures, the 更正 file fixes them.
        unit, index = "南康区", 3
        true_row, previous_row = figures[unit][index], figures[unit][index - 1]
        grown = [k for k in ("self_found", "dept_found", "penalties", "checked_enterprises")
                 if true_row[k] > previous_row[k]]
        first_filing = dict(true_row, **{k: true_row[k] - 1 for k in grown})
        corrections = {(unit, index): {"values": first_filing, "differs": grown}}
        if self.scale.name == "campaign":
            corrections.update(self._plant_form_cases(figures))
        return corrections

    def _plant_form_cases(self, figures: dict[str, list[dict]]) -> dict[tuple[str, int], dict]:
        """Form-level cases of the contract; returns the undated correction."""
        # (a) A correction with the template's blank 时间 line and 更正 in its name, sent with
        # its dated original: the correction's figures count.
        unit, index = "上犹县", 5
        true_row, previous_row = figures[unit][index], figures[unit][index - 1]
        differs = ["self_found", "dept_found", "penalties", "checked_enterprises", "dept_rectified"]  # always reported
        first_filing = dict(true_row, **{k: max(previous_row[k], true_row[k] - 2) for k in differs})
        differs = [k for k in differs if first_filing[k] != true_row[k]]
        # (f) A gap: June's self_found left "—"; the quarter Q2 depends on it.
        gap_unit, gap_index = "崇义县", 1
        self.form_overrides[(gap_unit, gap_index)] = {"self_found": "—"}
        self.cases["gap"] = {
            "unit": gap_unit, "key": "self_found", "period": self.periods[gap_index],
            "next_period": self.periods[gap_index + 1], "quarter": "2023Q2",
            "quarter_missing_periods": [self.periods[gap_index]],
        }
        # (h) Numbers with a bracketed note: the leading number is the value.
        note_unit, note_index = "赣县区", 2
        self.form_overrides[(note_unit, note_index)] = {
            "dept_found": "{v}（其中重大{n}）", "checked_enterprises": "{v}(含复查{n})"}
        self.cases["form_notes"] = [
            {"unit": note_unit, "period": self.periods[note_index], "key": key,
             "raw": template.format(v=_number_text(figures[note_unit][note_index][key]),
                                    n=min(figures[note_unit][note_index][key], 1 if "重大" in template else 2)),
             "value": figures[note_unit][note_index][key]}
            for key, template in self.form_overrides[(note_unit, note_index)].items()]
        # (h) A full filing date in the file name is a filing date, never the period.
        dated = {("寻乌县", 3): ("寻乌县调度表（2023.9.20）.xlsx", 20),
                 ("定南县", 5): ("定南县调度表（2023.11.08）.xlsx", 8)}
        self.form_names.update(dated)
        self.cases["dated_file_names"] = [
            {"unit": u, "period": self.periods[i], "file": f"{self._folder(self.periods[i])}/{name}",
             "filed_on": date(*_filing_month(self.periods[i]), day).isoformat()}
            for (u, i), (name, day) in dated.items()]
        # (i) A resend with a typo year (2032): held aside, changes nothing.
        self.typo_year_at = ("石城县", 3)
        return {(unit, index): {"values": first_filing, "differs": differs, "undated": True}}

    def _plant_hazard_cases(self) -> None:
        """Hazard-level cases of the contract (campaign scale)."""
        rng = self.case_rng
        last = len(self.periods) - 1
        words = {"not_started": "未整改", "in_progress": "整改中", "rectified": "已整改"}
        # (d) Reworded: May "…可燃气体报警装置" not started due 06-30, June "…可燃气体泄漏报警装置"
        # rectified: one hazard, not overdue.
        unit = "兴国县"
        old, new = "储罐区未设置可燃气体报警装置", "储罐区未设置可燃气体泄漏报警装置"
        reworded = Hazard(
            unit=unit, enterprise=f"{unit}鑫源化工储运有限公司", sector="hazardous_chemicals", sector_raw="危险化学品",
            description=old, measures="安装可燃气体泄漏报警装置并接入监控平台", supervision_level="none",
            supervision_raw="无", deadline=date(2023, 6, 30), deadline_raw=date(2023, 6, 30), found_index=0,
            found_by="self", rectified_after=1, words=dict(words), reworded=(1, new))
        self.hazards.append(reworded)
        self.planted.add(id(reworded))
        self.cases["reworded"] = {
            "unit": unit, "enterprise": reworded.enterprise, "sector": reworded.sector,
            "before": old, "after": new, "before_periods": [self.periods[0]], "after_from": self.periods[1],
            "unique_hazards": 1, "status": "rectified", "deadline": "2023-06-30", "overdue": False,
        }
        # (b) A one-row 补报 ledger for 章贡区's December: it adds one hazard.
        unit = "章贡区"
        added = Hazard(
            unit=unit, enterprise=f"{unit}翠微瓶装液化气供应站", sector="urban_gas", sector_raw="城镇燃气",
            description="气瓶间未设置可燃气体泄漏报警装置且与居民楼间距不足", measures="立即停用气瓶间，限期迁建",
            supervision_level="none", supervision_raw="/", deadline=date(2024, 1, 31), deadline_raw="2024年1月31日",
            found_index=last, found_by="dept", rectified_after=None, words=dict(words), supplement=True)
        self.hazards.append(added)
        self.planted.add(id(added))
        self.supplement_at = (unit, last)
        # (c) December deadlines for next year, written without a year.
        pool = [h for h in self.hazards if h.found_index == last and h.rectified_after != 0
                and h.deadline is not None and id(h) not in self.planted]
        next_year = []
        for hazard, (deadline, raw) in zip(rng.sample(pool, 3), ((date(2024, 2, 29), "2月底前"),
                                                               (date(2024, 1, 15), "1月15日前"),
                                                               (date(2024, 3, 15), "3.15"))):
            hazard.deadline, hazard.deadline_raw = deadline, raw
            self.planted.add(id(hazard))
            next_year.append(self._case_hazard(hazard, last))
        self.cases["next_year_deadlines"] = next_year
        # (h) The other deadline spellings, each on a few hazards whose listings all read it right.
        candidates = [h for h in self.hazards if h.deadline is not None and id(h) not in self.planted
                      and h.deadline.year == 2023]
        spellings = []
        for style in ("serial_text", "dash_before", "dotted_md", "chinese_md", "xun"):
            yearless = style in ("dotted_md", "chinese_md", "xun")
            eligible = [h for h in candidates if id(h) not in self.planted
                        and (not yearless or _yearless_safe(h.deadline, self._listed_in(h.unit, h.found_index)))]
            for hazard in rng.sample(eligible, min(3, len(eligible))):
                d = hazard.deadline
                if style == "serial_text":
                    raw = str(excel_serial(d))
                elif style == "dash_before":
                    raw = f"{d.year}-{d.month}-{d.day}前"
                elif style == "dotted_md":
                    raw = f"{d.month}.{d.day}"
                elif style == "chinese_md":
                    raw = f"{d.month}月{d.day}日"
                else:
                    word, day = rng.choice((("上旬", 10), ("中旬", 20), ("下旬", _last_day(d.year, d.month).day)))
                    hazard.deadline, raw = date(d.year, d.month, day), f"{d.month}月{word}"
                hazard.deadline_raw = raw
                self.planted.add(id(hazard))
                spellings.append(dict(self._case_hazard(hazard, None), style=style))
        self.cases["deadline_spellings"] = spellings
        # (g) Ledgers grouped under sector headings, no sector column, 序号 restarting.
        odd_sector = {h.unit for h in self.hazards if h.sector_raw is None or h.sector == "other"}
        grouped_units = [u for u in ("安远县", "龙南市", "瑞金市", "大余县", "全南县", "上犹县")
                         if u not in odd_sector and not self.habits[u].new_only][:2]
        for unit, index, style in zip(grouped_units, (4, 5), ("numbered", "bracketed")):
            self.grouped_ledgers[(unit, index)] = style

    def _case_hazard(self, hazard: Hazard, index: int | None) -> dict:
        """A hazard of a case, as its last listing reads (index None: the last period listing it)."""
        listed = self._listed_in(hazard.unit, hazard.found_index)
        status = hazard.status(self.periods.index(listed[-1]) if index is None else index)
        return {"unit": hazard.unit, "enterprise": hazard.enterprise, "description": hazard.description,
                "deadline_raw": hazard.deadline_raw, "deadline": hazard.deadline.isoformat(),
                "listed_in": listed, "status": status,
                "overdue": hazard.deadline < OVERDUE_AS_OF and status != "rectified"}

    # ------------------------------------------------------------ raw spellings

    def _raw(self, key: str, value: object, style: str) -> object:
        """The cell content an officer with this habit writes for a value."""
        if isinstance(value, bool):
            return "是" if value else "否"
        if isinstance(value, float) or style == "int":
            return value
        text = _number_text(value)
        return {
            "text": text,
            "fullwidth": _fullwidth(text),
            "units": text + _UNIT_LABELS[key],
            "padded": f" {text} ",
        }[style]

    def _reported(self, unit: str, values: dict[str, object], style: str, protected: frozenset[str],
                  truth: dict[str, object]) -> dict[str, object]:
        """Raw cell contents; a few cells are left not reported ("—", "无", "/", blank)."""
        raw: dict[str, object] = {}
        for key, value in values.items():
            if key not in protected and key not in _PAIR_MEMBERS and self.rng.random() < 0.03:
                raw[key] = self.rng.choice(_NOT_REPORTED)
                continue
            truth[key] = value
            # Pair cells are combined by the writer, which adds units itself.
            raw[key] = _number_text(value) if key in _PAIR_MEMBERS and not isinstance(value, bool) else self._raw(key, value, style)
        return raw

    # ------------------------------------------------------------ files

    def _folder(self, period: str) -> str:
        year, month = _period_ym(period)
        return f"{year}年{month:02d}月"

    def _file(self, folder: str, name: str) -> FilePlan:
        """A new file in folder; a name taken already gets a (n) suffix, as downloads do."""
        stem, suffix = name.rsplit(".", 1)
        taken = {f.path for f in self.files}
        path, copy = f"{folder}/{name}", 1
        while path in taken:
            path = f"{folder}/{stem}（{copy}）.{suffix}"
            copy += 1
        plan = FilePlan(path)
        self.files.append(plan)
        return plan

    def _file_name(self, habits: Habits, unit: str, period: str, kind: str) -> str:
        """kind: 台账, 调度表 or 台账及调度表."""
        year, month = _period_ym(period)
        if habits.naming == "unit_period":
            return f"{unit}_{year}年{month}月_{kind}.xlsx"
        if habits.naming == "unit_month":
            return f"{unit}{month}月{kind}.xlsx"
        generic = {"台账": ("附件2.xlsx", "重大事故隐患排查整治台账.xlsx", "台账.xlsx"),
                   "调度表": ("附件3.xlsx", "调度表.xlsx", "新建 XLSX 工作表.xlsx"),
                   "台账及调度表": ("附件2-3.xlsx", "报送材料.xlsx")}[kind]
        return generic[self.units.index(unit) % len(generic)]

    def _filed_on(self, period: str, day: int | None = None) -> tuple[date, str]:
        year, month = _filing_month(period)
        filed = date(year, month, day or self.rng.randint(8, 23))
        text = self.rng.choice((f"{year} 年 {month} 月 {filed.day} 日", f"{year}年{month}月{filed.day}日",
                                f"{year}年{month:02d}月{filed.day:02d}日"))
        return filed, text

    def _ledger_sheet(self, unit: str, habits: Habits, index: int, hazards: list[Hazard], name: str, *,
                      supplement: bool = False) -> SheetPlan:
        period = self.periods[index]
        year, month = _period_ym(period)
        if supplement:
            listed = [h for h in hazards if h.supplement and h.found_index == index]
        else:
            listed = [h for h in hazards if not h.supplement and (
                h.found_index == index or (not habits.new_only and h.found_index < index))]
        grouped = None if supplement else self.grouped_ledgers.get((unit, index))
        if grouped:
            # Under sector headings: each sector's hazards together, in order of first appearance.
            order = {}
            for hazard in listed:
                order.setdefault(hazard.sector, len(order))
            listed = sorted(listed, key=lambda h: order[h.sector])
        rows = [{
            "unit": habits.label,
            "enterprise": h.enterprise,
            "sector": _GROUP_HEADINGS[h.sector] if grouped else h.sector_raw,
            "description": h.description_at(index),
            "measures": h.measures,
            "supervision": h.supervision_raw,
            "deadline": h.deadline_raw,
            "progress": h.words[h.status(index)],
        } for h in listed]
        # Generic file names carry neither unit nor period: the title must.
        title = writers.LEDGER_TITLE
        if habits.naming == "generic" or habits.title_period or supplement:
            title = f"{habits.label}{writers.LEDGER_TITLE}（{year}年{month}月{'补报' if supplement else ''}）"
        blank_rows = tuple(sorted(self.rng.sample(range(len(rows)), min(2, len(rows))))) if index % 3 == 1 else ()
        options = dict(unit_label=habits.label, title=title, header_rows=habits.header_rows,
                       wrap_headers=habits.wrap_headers, merge_unit_column=habits.merge_unit_column,
                       blank_rows=blank_rows, total_row=habits.total_row, note_row=habits.note_row)
        if grouped:
            options["grouped"] = grouped
        for hazard in listed:
            self.last_listed[id(hazard)] = index
        return SheetPlan(name, partial(writers.write_ledger, rows=rows, **options), {
            "content": "ledger", "form": 2, "units": [unit], "period": period, "rows": len(rows),
            "lists": "new_only" if habits.new_only else "all",
            "layout": {k: v for k, v in options.items() if k not in ("unit_label",)},
        })

    def _form_sheet(self, unit: str, habits: Habits, index: int, values: dict, name: str, *,
                    filed: tuple[date, str] | None, protected: frozenset[str],
                    overrides: dict[str, str] | None = None, title_period: str | None = None) -> SheetPlan:
        """filed None: the template's blank 时间 line. overrides: key -> raw cell, "—" (not
        reported) or a template such as "{v}（其中重大{n}）" around the true value."""
        period = self.periods[index]
        form = 4 if unit_type_of(unit) == "department" else 3
        truth: dict[str, object] = {}
        raw = self._reported(unit, values, habits.value_style, protected, truth)
        for key, template in (overrides or {}).items():
            if template in _NOT_REPORTED:
                raw[key] = template
                truth.pop(key, None)
            else:
                value = values[key]
                raw[key] = template.format(v=_number_text(value), n=min(value, 1 if "重大" in template else 2))
                truth[key] = value
        year, month = _period_ym(period)
        if title_period is None and habits.title_period:
            title_period = f"{year}年{month}月"
        options = dict(form=form, unit_label=habits.label, filed_on_text=filed[1] if filed else None,
                       pair_style=habits.pair_style,
                       title_period_text=f"（{title_period}）" if title_period else None)
        return SheetPlan(name, partial(writers.write_form, values=raw, **options), {
            "content": "form", "form": form, "units": [unit], "period": period,
            "filed_on": filed[0].isoformat() if filed else None,
            "layout": {k: v for k, v in options.items() if k not in ("unit_label", "form", "filed_on_text")},
            "values": truth,
        })

    def _extra_sheet(self, kind: str) -> SheetPlan:
        if kind == "Sheet2":
            return SheetPlan("Sheet2", lambda ws: None, {"content": "empty"})
        lines = ("填报说明：", "1.本表数据为5月以来累计数。", "2.每月23日前报送市安委办，邮箱gzsawhbgs@126.com。")
        return SheetPlan(kind, partial(_write_lines, lines=lines), {"content": "instructions"})

    def _unit_files(self, unit: str, habits: Habits, hazards: list[Hazard], figures: list[dict],
                    corrections: dict[tuple[str, int], dict]) -> dict[str, dict]:
        """Plan one unit's files for every period; returns its reported indicators by period."""
        reported: dict[str, dict] = {}
        for index, period in enumerate(self.periods):
            folder = self._folder(period)
            ledger_sheet = "台账" if habits.together else ("Sheet1" if index % 2 else "附件2")
            ledger = self._ledger_sheet(unit, habits, index, hazards, ledger_sheet)
            key = (unit, index)
            if habits.wide_form or unit in self.joint_zone_filings.get(index, ()):
                form_plan = None
            else:
                named, filing_day = self.form_names.get(key, (None, None))
                filed = self._filed_on(period, filing_day or (10 if key in corrections else None))
                values = corrections.get(key, {}).get("values", figures[index])
                form_plan = self._form_sheet(unit, habits, index, values, "调度表" if habits.together else "Sheet1",
                                             filed=filed, protected=_PROTECTED_KEYS,
                                             overrides=self.form_overrides.get(key))
            if habits.together and form_plan is not None:
                plan = self._file(folder, self._file_name(habits, unit, period, "台账及调度表"))
                plan.sheets += [ledger, form_plan]
            else:
                self._file(folder, self._file_name(habits, unit, period, "台账")).sheets.append(ledger)
                if form_plan is not None:
                    name = named or self._file_name(habits, unit, period, "调度表")
                    self._file(folder, name).sheets.append(form_plan)
            if key in self.grouped_ledgers:
                self._case_file("grouped_ledgers", ledger, self.files[-2 if form_plan and not habits.together else -1])
            target = (self.files[-1] if form_plan is not None else None)
            if habits.extra_sheet and target is not None and index % 2 == 0:
                target.sheets.append(self._extra_sheet(habits.extra_sheet))
            if form_plan is not None:
                reported[period] = form_plan.manifest["values"]
            if key in corrections:
                reported[period] = self._correction(unit, habits, index, figures[index], corrections[key],
                                                    first=target)
            if key == self.supplement_at:
                self._supplement_file(unit, habits, index, hazards, self.files[-2 if form_plan and not habits.together else -1])
            if key == self.typo_year_at:
                self._typo_year_file(unit, habits, index, figures[index])
        return reported

    def _case_file(self, case: str, sheet: SheetPlan, plan: FilePlan) -> None:
        """Record the file a case landed in (its sheet manifest says how it was written)."""
        entry = {"file": plan.path, "sheet": sheet.name, "unit": sheet.manifest["units"][0],
                 "period": sheet.manifest["period"], "rows": sheet.manifest.get("rows")}
        if case == "grouped_ledgers":
            entry["style"] = sheet.manifest["layout"]["grouped"]
            # the sectors whose headings the sheet carries, in order
            entry["headings"] = list(dict.fromkeys(row["sector"] for row in sheet.write.keywords["rows"]))
        self.cases.setdefault(case, []).append(entry)

    def _supplement_file(self, unit: str, habits: Habits, index: int, hazards: list[Hazard],
                         ledger_file: FilePlan) -> None:
        """A one-row 补报 ledger sent after the unit's ledger for the same month: it adds a hazard."""
        period = self.periods[index]
        sheet = self._ledger_sheet(unit, habits, index, hazards, "Sheet1", supplement=True)
        sheet.manifest["supplement"] = True
        year, month = _period_ym(period)
        plan = self._file(self._folder(period), f"{unit}_{year}年{month}月_台账（补报）.xlsx")
        plan.sheets.append(sheet)
        added = [h for h in hazards if h.supplement and h.found_index == index]
        regular = next(s for s in ledger_file.sheets if s.manifest.get("content") == "ledger")
        self.cases["supplement_ledger"] = {
            "unit": unit, "period": period, "ledger": ledger_file.path, "supplement": plan.path,
            "ledger_rows": regular.manifest["rows"], "supplement_rows": sheet.manifest["rows"],
            "hazards_in_period": regular.manifest["rows"] + sheet.manifest["rows"],
            "added": [{"enterprise": h.enterprise, "description": h.description, "status": h.status(index)}
                      for h in added],
        }

    def _typo_year_file(self, unit: str, habits: Habits, index: int, values: dict) -> None:
        """A resend whose title and 时间 line say 2032 for 2023: outside the window, held aside."""
        period = self.periods[index]
        year, month = _period_ym(period)
        typo = year + 9
        bumped = {k: (v + 7 if isinstance(v, int) and not isinstance(v, bool) else v) for k, v in values.items()}
        filed = (date(typo, month + 1, 15), f"{typo}年{month + 1}月15日")
        sheet = self._form_sheet(unit, habits, index, bumped, "Sheet1", filed=filed, protected=_PROTECTED_KEYS,
                                 title_period=f"{typo}年{month}月")
        read_as = f"{typo}-{month:02d}"
        sheet.manifest.update(period=read_as, held_aside=True, values={})
        plan = self._file(self._folder(period), f"{unit}{typo}年{month}月调度表.xlsx")
        plan.sheets.append(sheet)
        self.cases["held_aside"] = [{"file": plan.path, "unit": unit, "period_read": read_as,
                                     "meant": period, "reason": "typo year outside the campaign window"}]

    def _correction(self, unit: str, habits: Habits, index: int, values: dict, correction: dict,
                    first: FilePlan) -> dict:
        period = self.periods[index]
        # An undated correction keeps the template's blank 时间 line: 更正 in its name decides.
        filed = None if correction.get("undated") else self._filed_on(period, 25)
        stem = first.path.rsplit("/", 1)[1].rsplit(".", 1)[0]
        plan = self._file(self._folder(period), f"{stem}（更正）.xlsx")
        sheet = self._form_sheet(unit, habits, index, values, "Sheet1", filed=filed, protected=_PROTECTED_KEYS)
        plan.sheets.append(sheet)
        if correction.get("undated"):
            original = next(s for s in first.sheets if s.manifest.get("content") == "form")
            self.cases["undated_correction"] = {
                "unit": unit, "period": period, "kind": "county_form" if original.manifest["form"] == 3 else "department_form",
                "original": first.path, "original_filed_on": original.manifest["filed_on"], "correction": plan.path,
                "differs": correction["differs"],
                "original_values": {k: original.manifest["values"][k] for k in correction["differs"]},
                "values": {k: sheet.manifest["values"][k] for k in correction["differs"]},
            }
        self._finding("duplicate_submission", unit, period=period, files=[first.path, plan.path],
                      authoritative=plan.path, differs=correction["differs"])
        return sheet.manifest["values"]

    def _wide_file(self, units: list[str], index: int, name: str,
                   figures: dict[str, list[dict]]) -> dict[str, dict]:
        """A consolidated 汇总表 holding the forms of several units in one sheet."""
        period = self.periods[index]
        year, month = _period_ym(period)
        form = 4 if unit_type_of(units[0]) == "department" else 3
        noun = "市直部门" if form == 4 else "功能区"
        title = f"赣州市{noun}重大事故隐患专项排查整治进展情况调度汇总表（截至{year}年{month}月底）"
        truths: dict[str, dict] = {}
        rows = []
        for unit in units:
            truth: dict[str, object] = {}
            raw = self._reported(unit, figures[unit][index], "int", _PROTECTED_KEYS, truth)
            truths[unit] = truth
            rows.append((self.habits[unit].label, raw))
        options = dict(form=form, title=title, section_row=index % 2 == 0,
                       pair_columns="split" if index % 3 else "one_cell", total_row=len(units) > 1)
        plan = self._file(self._folder(period), name)
        plan.sheets.append(SheetPlan("汇总表", partial(writers.write_wide_form, rows=rows, **options), {
            "content": "wide_form", "form": form, "units": units, "period": period,
            "layout": {k: v for k, v in options.items() if k != "form"}, "values": truths,
        }))
        return truths

    def _registry_files(self) -> dict:
        enterprises: dict[str, Hazard] = {}
        for hazard in self.hazards:
            enterprises.setdefault(hazard.enterprise, hazard)
        chosen = list(enterprises.values())[:: max(1, len(enterprises) // 150)][:150]
        rows = [self._registry_row(h) for h in chosen]
        table = self._file("公示牌", "安全生产责任公示牌信息汇总表.xlsx")
        table.sheets.append(SheetPlan("公示牌汇总", partial(writers.write_registry, rows=rows, layout="table"),
                                      {"content": "registry", "form": 1, "layout": "table", "rows": len(rows)}))
        # 章贡区 sends its boards as printed, many on one sheet, in two files over time; they name
        # enterprises the city's table does not, and the second file's first board replaces the
        # entry of an enterprise of the first file (a new 挂点领导).
        in_table = {h.enterprise for h in chosen}
        own = [h for h in enterprises.values() if h.unit == "章贡区" and h.enterprise not in in_table]
        assert len(own) >= 13, "章贡区 needs 13 enterprises outside the city's table"
        board_rows = [self._registry_row(h) for h in own[:10]]
        board = self._file("公示牌", "章贡区公示牌.xlsx")
        board.sheets.append(SheetPlan("公示牌", partial(writers.write_registry, rows=board_rows, layout="board"),
                                      {"content": "registry", "form": 1, "layout": "board", "rows": len(board_rows)}))
        replaced = dict(board_rows[2], leader=self._person(), leader_phone=self._phone())
        later_rows = [replaced] + [self._registry_row(h) for h in own[10:13]]
        later = self._file("公示牌", "章贡区公示牌（第二批）.xlsx")
        later.sheets.append(SheetPlan("公示牌", partial(writers.write_registry, rows=later_rows, layout="board"),
                                      {"content": "registry", "form": 1, "layout": "board", "rows": len(later_rows)}))
        boards = {r["enterprise"]: r for r in board_rows + later_rows}  # the later board wins
        names = sorted({r["enterprise"] for r in rows} | set(boards))
        return {
            "enterprises": len(names), "files": [table.path, board.path, later.path], "names": names,
            "key": "unit + enterprise; a later board replaces that enterprise's entry only",
            "boards": {"章贡区": {
                "files": [board.path, later.path], "boards": [len(board_rows), len(later_rows)],
                "enterprises": sorted(boards),
                "leaders": {name: row["leader"] for name, row in sorted(boards.items())},
                "replaced": {"enterprise": replaced["enterprise"], "earlier_leader": board_rows[2]["leader"],
                             "leader": replaced["leader"], "file": later.path},
            }},
        }

    def _registry_row(self, hazard: Hazard) -> dict:
        regulator = {"fire": "消防救援大队", "construction": "住建局", "road_traffic": "交通运输局",
                     "special_equipment": "市场监管局", "urban_gas": "城管局", "agriculture": "农业农村局"}
        unit = hazard.unit
        responsible = unit if unit_type_of(unit) == "department" else unit + regulator.get(hazard.sector, "应急管理局")
        return {
            "enterprise": hazard.enterprise, "responsible_unit": responsible,
            "head": self._person(), "head_phone": self._phone(),
            "leader": self._person(), "leader_phone": self._phone(),
            "cadre": self._person(), "cadre_phone": self._phone(),
        }

    def _person(self) -> str:
        return self.rng.choice(_SURNAMES) + "".join(self.rng.choices(_GIVEN, k=self.rng.choice((1, 2))))

    def _phone(self) -> str:
        if self.rng.random() < 0.3:
            return f"0797-{self.rng.randint(8000000, 8999999)}"
        return f"1{self.rng.choice((39, 58, 80, 37, 87))}{self.rng.randint(10000000, 99999999)}"

    def _bad_files(self) -> list[dict]:
        folder = self._folder(self.periods[4])
        text = self._file(folder, "报送说明.xlsx")
        text.raw_bytes = "各县（市、区）：请于每月23日前报送台账和调度表。\n".encode("utf-8")
        text.problem = "a text file renamed .xlsx"
        staff = self._file(folder, "科室人员名单.xlsx")
        staff_rows = [("序号", "姓名", "科室", "职务", "联系电话")] + [
            (i, self._person(), self.rng.choice(("综合科", "执法支队", "危化科")), "科员", self._phone()) for i in range(1, 9)]
        staff.sheets.append(SheetPlan("Sheet1", partial(_write_lines, lines=staff_rows), {"content": "unrelated"}))
        staff.problem = "an unrelated table (a staff list)"
        empty = self._file(folder, "新建 Microsoft Excel 工作表.xlsx")
        empty.sheets.append(SheetPlan("Sheet1", lambda ws: None, {"content": "empty"}))
        empty.problem = "an empty workbook"
        return [{"file": f.path, "problem": f.problem} for f in (text, staff, empty)]

    # ------------------------------------------------------------ assembly

    def build(self) -> Plan:
        self._generate_hazards()
        self._plant_hazard_findings()
        if self.scale.name == "campaign":
            self._plant_hazard_cases()
        figures = self._true_figures()
        corrections = self._plant_figure_findings(figures)
        by_unit: dict[str, list[Hazard]] = {unit: [] for unit in self.units}
        for hazard in self.hazards:
            by_unit[hazard.unit].append(hazard)

        indicators: dict[str, dict[str, dict]] = {unit: {} for unit in self.units}
        for unit in self.units:
            habits = self.habits[unit]
            indicators[unit] = self._unit_files(unit, habits, by_unit[unit], figures[unit], corrections)
            if habits.wide_form:
                for index in range(len(self.periods)):
                    truths = self._wide_file([unit], index, f"{habits.label}调度表.xlsx", figures)
                    indicators[unit][self.periods[index]] = truths[unit]
        for index, zones in self.joint_zone_filings.items():
            truths = self._wide_file(zones, index, "功能区调度汇总表.xlsx", figures)
            for zone in zones:
                indicators[zone][self.periods[index]] = truths[zone]

        registry = self._registry_files() if self.scale.name == "campaign" else None
        bad = self._bad_files()
        return Plan(self.files, self._manifest(indicators, registry, bad))

    def _manifest(self, indicators: dict, registry: dict | None, bad: list[dict]) -> dict:
        last = {id(h): self.last_listed[id(h)] for h in self.hazards}
        status = {id(h): h.status(last[id(h)]) for h in self.hazards}
        overdue = [h for h in self.hazards
                   if h.deadline is not None and h.deadline < OVERDUE_AS_OF and status[id(h)] != "rectified"]
        hazards = {
            "unique": len(self.hazards),
            "by_unit": dict(Counter(h.unit for h in self.hazards)),
            "by_sector": dict(sorted(Counter(h.sector for h in self.hazards).items())),
            "by_status": dict(sorted(Counter(status.values()).items())),
            "overdue": {"as_of": OVERDUE_AS_OF.isoformat(), "count": len(overdue)},
            "supervised": {level: sum(h.supervision_level == level for h in self.hazards)
                           for level in ("city", "county", "province")},
        }
        if self.scale.list_hazards:
            hazards["items"] = [{
                "unit": h.unit, "enterprise": h.enterprise, "description": h.description_at(last[id(h)]),
                **({"first_description": h.description} if h.reworded else {}),
                "sector": h.sector, "sector_raw": h.sector_raw, "supervision_level": h.supervision_level,
                "deadline": h.deadline.isoformat() if h.deadline else None,
                "deadline_raw": h.deadline_raw.isoformat() if isinstance(h.deadline_raw, date) else h.deadline_raw,
                "status": status[id(h)], "first_period": self.periods[h.found_index],
                "last_period": self.periods[last[id(h)]],
            } for h in self.hazards]
        files = []
        for plan in self.files:
            entry: dict = {"path": plan.path}
            if plan.problem:
                entry["problem"] = plan.problem
            else:
                entry["sheets"] = [{"name": s.name, **{k: v for k, v in s.manifest.items() if k != "values"}}
                                   for s in plan.sheets]
                entry["units"] = sorted({u for s in plan.sheets for u in s.manifest.get("units", [])})
                entry["periods"] = sorted({s.manifest["period"] for s in plan.sheets if "period" in s.manifest})
                entry["forms"] = sorted({s.manifest["form"] for s in plan.sheets if "form" in s.manifest})
            files.append(entry)
        return {
            "generator": {"seed": self.seed, "scale": self.scale.name, "version": MANIFEST_VERSION},
            "conventions": {
                "status": "each hazard takes the status of the last period whose ledger lists it",
                "overdue": "deadline before as_of and not rectified",
                "missing_sector": "counted under sector 'other' in by_sector",
                "month_end_deadline": "'8月底前' and '8.30' (no year) take the report's year unless that falls "
                                      "more than two months before the report period: then the next year",
                "period": "a form's period is the month its title or file name names; else its 时间 filing date "
                          "(day 1-25: the previous month; 26-31: its own); a full date is never a period",
                "window": "periods outside 2023-05..2023-12 are held aside and change no figure",
                "resends": "per (kind, unit, period) the later batch wins; within a batch 更正/修改/修订 in title "
                           "or name, else the later 时间 date, else the later file name; 补报/补充 ledgers add",
                "indicators": "cumulative values as reported (the 更正 filing where one exists); "
                              "a value not reported ('—', '无', '/', blank) is absent; 是/否 is true/false",
            },
            "periods": list(self.periods),
            "units": {unit: {"type": unit_type_of(unit), "written_as": self.habits[unit].label,
                             "ledger_lists": "new_only" if self.habits[unit].new_only else "all"}
                      for unit in self.units},
            "files": files,
            "hazards": hazards,
            "indicators": indicators,
            "findings": self.findings,
            "bad_files": bad,
            "registry": registry,
            "cases": self.cases,
        }


def _write_lines(ws: Worksheet, lines) -> None:
    for line in lines:
        ws.append(list(line) if isinstance(line, tuple) else [line])


def build_plan(seed: int, scale: str = "campaign") -> Plan:
    """Everything the generator will write, decided from the seed, without touching the disk."""
    return _Builder(seed, SCALES[scale]).build()


def _write_file(out: Path, plan: FilePlan) -> None:
    path = out / plan.path
    path.parent.mkdir(parents=True, exist_ok=True)
    if plan.raw_bytes is not None:
        path.write_bytes(plan.raw_bytes)
        return
    workbook = Workbook()
    workbook.remove(workbook.active)
    for sheet in plan.sheets:
        sheet.write(workbook.create_sheet(sheet.name))
    writers.save_workbook(workbook, path)


_PLAN_FOR_WORKERS: Plan | None = None


def _write_file_by_index(out: Path, index: int) -> None:
    _write_file(out, _PLAN_FOR_WORKERS.files[index])


def write_plan(plan: Plan, out: Path, *, workers: int = 1, progress: Callable[[str], None] = print) -> None:
    """Write every file of the plan and the manifest into out (emptied first)."""
    global _PLAN_FOR_WORKERS
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    count = len(plan.files)
    if workers > 1:
        # Forked workers inherit the plan (its sheet writers are closures, which do not pickle).
        _PLAN_FOR_WORKERS = plan
        with multiprocessing.get_context("fork").Pool(workers) as pool:
            for done, _ in enumerate(pool.imap_unordered(partial(_write_file_by_index, out), range(count)), 1):
                if done % 200 == 0 or done == count:
                    progress(f"  wrote {done}/{count} files")
        _PLAN_FOR_WORKERS = None
    else:
        for done, file_plan in enumerate(plan.files, 1):
            _write_file(out, file_plan)
            if done % 100 == 0 or done == count:
                progress(f"  wrote {done}/{count} files")
    (out / MANIFEST_NAME).write_text(json.dumps(plan.manifest, ensure_ascii=False, indent=1, default=str) + "\n",
                                     encoding="utf-8")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--seed", type=int, default=2023)
    parser.add_argument("--scale", choices=sorted(SCALES), default="campaign")
    parser.add_argument("--workers", type=int, default=multiprocessing.cpu_count())
    args = parser.parse_args(argv)
    started = time.perf_counter()
    print(f"planning {args.scale} (seed {args.seed}) …")
    plan = build_plan(args.seed, args.scale)
    print(f"  {len(plan.files)} files, {plan.manifest['hazards']['unique']} unique hazards "
          f"({time.perf_counter() - started:.1f}s)")
    write_plan(plan, args.out, workers=args.workers)
    size = sum(p.stat().st_size for p in args.out.rglob("*") if p.is_file())
    print(f"done: {args.out} {size / 1e6:.1f} MB in {time.perf_counter() - started:.1f}s")


if __name__ == "__main__":
    main()
