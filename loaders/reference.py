"""Canonical names of the data contract: units, sectors, form indicators.

Everything shown to a person uses the Chinese labels here; everything in code
uses the English keys. See ``shared/spec/data-contract.md``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

CAMPAIGN_YEAR = 2023
CAMPAIGN_START_PERIOD = "2023-05"
CAMPAIGN_END_PERIOD = "2023-12"
REPORT_DAY = 23  # forms are due by the 23rd and cover the previous month

# Campaign stages (label, first period, last period).
STAGES = (
    ("动员部署", "2023-05", "2023-05"),
    ("企业自查自改和部门帮扶", "2023-06", "2023-07"),
    ("部门精准执法", "2023-08", "2023-11"),
    ("总结提高", "2023-12", "2023-12"),
)

# Quarterly quotas from the plan.
QUOTA_COUNTY_HAZARDS = 30
QUOTA_DEPARTMENT_HAZARDS = 10
QUOTA_TYPICAL_CASES = 1

# Days within which a supervised hazard must show substantive progress.
SUPERVISION_PROGRESS_DAYS = {"city": 60, "county": 30}

COUNTIES = (
    "章贡区", "南康区", "赣县区", "信丰县", "大余县", "上犹县", "崇义县", "安远县", "龙南市",
    "定南县", "全南县", "宁都县", "于都县", "兴国县", "会昌县", "寻乌县", "石城县", "瑞金市",
)
ZONES = ("赣州经开区", "蓉江新区", "赣州高新区")
DEPARTMENTS = (
    "市应急管理局", "市公安局交警支队", "市消防救援支队", "市住建局", "市交通运输局", "市市场监管局",
    "市城管局", "市农业农村局", "市工信局", "市水利局", "市商务局", "市教育局", "市文广新旅局",
)

UNIT_TYPES = ("county", "zone", "department")
UNIT_TYPE_LABELS = {"county": "县市区", "zone": "功能区", "department": "市直部门", "unknown": "未识别"}

# Loose spellings officers write, mapped to canonical unit names. Suffix-free
# short forms ("章贡") are derived below for every county.
_EXTRA_UNIT_ALIASES = {
    "龙南县": "龙南市", "瑞金县": "瑞金市", "南康市": "南康区", "赣县": "赣县区",
    "经开区": "赣州经开区", "赣州经济技术开发区": "赣州经开区", "经济技术开发区": "赣州经开区",
    "赣州开发区": "赣州经开区", "开发区": "赣州经开区",
    "蓉江": "蓉江新区", "赣州蓉江新区": "蓉江新区",
    "高新区": "赣州高新区", "赣州高新技术产业开发区": "赣州高新区", "高新技术产业开发区": "赣州高新区",
    "市应急局": "市应急管理局", "应急管理局": "市应急管理局", "应急局": "市应急管理局",
    "交警支队": "市公安局交警支队", "市交警支队": "市公安局交警支队", "公安交警支队": "市公安局交警支队",
    "市公安局交通警察支队": "市公安局交警支队",
    "消防救援支队": "市消防救援支队", "市消防支队": "市消防救援支队", "消防支队": "市消防救援支队",
    "住建局": "市住建局", "市住房和城乡建设局": "市住建局", "住房和城乡建设局": "市住建局",
    "交通运输局": "市交通运输局", "市交通局": "市交通运输局", "交通局": "市交通运输局",
    "市场监管局": "市市场监管局", "市市场监督管理局": "市市场监管局", "市场监督管理局": "市市场监管局",
    "城管局": "市城管局", "市城市管理局": "市城管局", "城市管理局": "市城管局",
    "农业农村局": "市农业农村局", "市农业局": "市农业农村局", "农业局": "市农业农村局",
    "工信局": "市工信局", "市工业和信息化局": "市工信局", "工业和信息化局": "市工信局",
    "水利局": "市水利局",
    "商务局": "市商务局",
    "教育局": "市教育局",
    "文广新旅局": "市文广新旅局", "市文化广电新闻出版旅游局": "市文广新旅局",
}

# Decorations officers add around a unit name: prefixes, suffixes and stamps.
_UNIT_NOISE = re.compile(
    r"[（(]\s*(盖章|章|印)\s*[)）]|盖章|安全生产委员会办公室|安全生产委员会|安委会办公室|安委会|安委办|人民政府|"
    r"管委会|管理委员会|（|）|\(|\)|\s+"
)


def _build_unit_aliases() -> dict[str, str]:
    aliases: dict[str, str] = {}
    for name in COUNTIES:
        aliases[name] = name
        aliases[name[:-1]] = name  # 章贡区 -> 章贡
        aliases["赣州市" + name] = name
    for name in ZONES + DEPARTMENTS:
        aliases[name] = name
    for name in DEPARTMENTS:
        aliases["赣州" + name] = name  # 赣州市住建局
    for alias, name in _EXTRA_UNIT_ALIASES.items():
        aliases[alias] = name
        aliases["赣州市" + alias.removeprefix("市")] = name
        aliases["赣州" + alias] = name
    return aliases


UNIT_ALIASES = _build_unit_aliases()


def unit_type_of(unit: str) -> str:
    """The unit type of a canonical unit name, guessing from its suffix for unknown ones."""
    if unit in COUNTIES:
        return "county"
    if unit in ZONES:
        return "zone"
    if unit in DEPARTMENTS:
        return "department"
    if re.search(r"(新区|开发区|经开区|高新区|园区|综保区)$", unit):
        return "zone"
    if re.search(r"(局|支队|委|办|中心|公司|大队)$", unit):
        return "department"
    if re.search(r"(县|区|市)$", unit):
        return "county"
    return "unknown"


def canonical_unit(raw: object) -> str | None:
    """Canonical unit name for a loosely written one, or None when it maps to no known unit."""
    if raw is None:
        return None
    return _canonical_unit_text(str(raw))


@lru_cache(maxsize=8192)
def _canonical_unit_text(raw: str) -> str | None:
    text = _UNIT_NOISE.sub("", raw).strip("：:，,。 ")
    if not text:
        return None
    if text in UNIT_ALIASES:
        return UNIT_ALIASES[text]
    # "赣州市章贡区应急管理局" and similar: a county name inside a longer name.
    for name in COUNTIES + ZONES:
        if text.startswith(name) or text.startswith("赣州市" + name):
            return name
    return None


@dataclass(frozen=True)
class Sector:
    key: str
    label: str
    spellings: tuple[str, ...]


SECTORS = (
    Sector("road_traffic", "道路交通", ("道路交通安全", "交通运输(道路)", "交通运输（道路）", "道路运输", "交通运输", "道路交通")),
    Sector("fire", "消防", ("消防安全", "消防")),
    Sector("construction", "建筑施工", ("房屋市政工程", "建筑施工", "建筑", "房屋建筑", "市政工程", "住建")),
    Sector("mining", "矿山", ("非煤矿山", "尾矿库", "矿山", "煤矿")),
    Sector("hazardous_chemicals", "危险化学品", ("危险化学品", "危化品", "危化", "化工")),
    Sector("industry_trade", "工贸", ("工贸", "冶金", "粉尘涉爆", "有限空间", "钢铁", "有色", "建材", "机械", "轻工", "纺织")),
    Sector("urban_gas", "城镇燃气", ("城镇燃气", "瓶装液化气", "液化气", "燃气")),
    Sector("special_equipment", "特种设备", ("特种设备", "电梯", "起重机械", "压力容器", "锅炉")),
    Sector("agriculture", "农业生产", ("农业生产", "农机", "渔业船舶", "渔业", "沼气", "农业")),
    Sector("other", "其他", ()),
)
SECTOR_LABELS = {s.key: s.label for s in SECTORS}
SECTOR_KEYS = tuple(s.key for s in SECTORS)

STATUS_LABELS = {"rectified": "已整改", "in_progress": "整改中", "not_started": "未整改"}
SUPERVISION_LABELS = {"province": "省级督办", "city": "市级督办", "county": "县级督办", "none": "未督办"}


@dataclass(frozen=True)
class Indicator:
    key: str
    label: str  # county form (附件3) wording
    department_label: str | None  # 附件4 wording where it differs
    forms: tuple[int, ...]
    kind: str = "count"  # count | money | bool

    @property
    def unit_label(self) -> str:
        m = re.search(r"（([^（）]+)）$", self.label)
        return m.group(1) if m else ""


INDICATORS = (
    Indicator("enterprises", "辖区企业/建设项目数量（家）", "行业领域企业/建设项目数量（家）", (3, 4)),
    Indicator("sampled_enterprises", "抽查企业/建设项目数量（家）", None, (3,)),
    Indicator("self_found", "企业自查发现的重大事故隐患（个）", None, (3,)),
    Indicator("self_rectified", "企业自查发现重大事故隐患中已完成整治的（个）", None, (3,)),
    Indicator("dept_found", "部门检查发现的重大事故隐患（个）", "部门排查发现的重大隐患（个）", (3, 4)),
    Indicator("dept_rectified", "部门检查发现重大事故隐患中已完成整治的（个）", "部门排查发现的重大隐患中已完成整治的（个）", (3, 4)),
    Indicator("supervised", "政府挂牌督办的重大事故隐患（个）", "本领域市级政府挂牌督办重大事故隐患（个）", (3, 4)),
    Indicator("supervised_rectified", "挂牌督办的重大事故隐患中已完成整治的（个）", "挂牌督办重大事故隐患中已完成整改的（个）", (3, 4)),
    Indicator("checked_enterprises", "部门抽查检查的企业总数（家）", None, (3, 4)),
    Indicator("chk_head_no_study", "企业主要负责人未按要求亲自研究排查整治工作（家）", None, (3, 4)),
    Indicator("chk_head_no_inspection", "企业主要负责人未带队检查（家）", None, (3, 4)),
    Indicator("chk_no_duty_list", "企业未制定分管负责人职责清单（家）", None, (3, 4)),
    Indicator("chk_no_safety_staff", "企业未依法建立安全管理机构和配足安全管理人员（家）", None, (3, 4)),
    Indicator("chk_unlicensed_welding", "电焊等人员无证上岗作业（家）", None, (3, 4)),
    Indicator("chk_outsourcing_chaos", "外包外租安全管理混乱（家）", None, (3, 4)),
    Indicator("chk_no_drill", "未按规定开展应急演练、企业员工不熟悉逃生出口（家）", None, (3, 4)),
    Indicator("assist_areas", "重点地区帮扶指导（个次）", "帮扶指导重点县（个次）", (3, 4)),
    Indicator("assist_enterprises", "重点企业帮扶指导（家次）", "帮扶指导重点企业（家次）", (3, 4)),
    Indicator("penalties", "行政处罚（次）", None, (3, 4)),
    Indicator("fines_wan", "行政处罚（万元）", None, (3, 4), "money"),
    Indicator("dual_penalties", "“一案双罚”（次）", None, (3, 4)),
    Indicator("judicial_transfers", "移送司法机关（人）", None, (3, 4)),
    Indicator("suspensions", "责令停产整顿（家）", None, (3, 4)),
    Indicator("exposures", "曝光、约谈、联合惩戒企业（家）", None, (3, 4)),
    Indicator("typical_cases", "公布典型执法案例（个）", None, (3, 4)),
    Indicator("dangerous_op_cases", "其中危险作业罪案例（个）", None, (3, 4)),
    Indicator("accountability", "责任倒查追责问责（人）", None, (3, 4)),
    Indicator("interviews", "约谈通报有关地区及部门（次）", None, (3, 4)),
    Indicator("study_sessions", "县级党委政府组织专题学习安全生产十五条硬措施（次）", None, (3,)),
    Indicator("leader_research", "县级党委政府主要负责同志专题研究（次）", None, (3,)),
    Indicator("onsite_supervision", "县级政府负责同志现场督导检查（次）", None, (3,)),
    Indicator("lectures", "县安委会成员单位负责同志到企业宣讲（次）", "市安委会成员单位负责同志到企业宣讲（次）", (3, 4)),
    Indicator("rewards_wan", "举报奖励（万元）", None, (3,), "money"),
    Indicator("anonymous_rewards_wan", "其中匿名举报查实奖励（万元）", None, (3,), "money"),
    Indicator("media_column", "是否在县级主流媒体开设安全生产专题栏目", None, (3,), "bool"),
    Indicator("tech_inspectors", "县级配备专兼职技术检查员数量（人）", None, (3,)),
    Indicator("inspections", "组织开展考核巡查督导检查（次）", None, (3,)),
    Indicator("enforcer_training", "执法人员专题培训（人次）", None, (4,)),
)
INDICATOR_BY_KEY = {i.key: i for i in INDICATORS}
INDICATOR_KEYS = tuple(i.key for i in INDICATORS)

# Labels that carry two values, as printed on the forms: (label, first key, second key).
PAIR_LABELS = (
    ("行政处罚（次，万元）", "penalties", "fines_wan"),
    ("公布典型执法案例（个），其中危险作业罪案例（个）", "typical_cases", "dangerous_op_cases"),
    ("举报奖励（万元），其中匿名举报查实奖励（万元）", "rewards_wan", "anonymous_rewards_wan"),
)

# Pairs (part, whole) where the part can never exceed the whole.
PART_WHOLE_PAIRS = (
    ("self_rectified", "self_found"),
    ("dept_rectified", "dept_found"),
    ("supervised_rectified", "supervised"),
    ("dangerous_op_cases", "typical_cases"),
    ("anonymous_rewards_wan", "rewards_wan"),
)

# Ledger (附件2) columns: canonical key -> header label.
LEDGER_COLUMNS = {
    "seq": "序号",
    "unit": "县市区/部门",
    "enterprise": "企业（项目）",
    "sector": "所属行业领域",
    "description": "重大隐患描述",
    "measures": "整改措施",
    "supervision": "督办层级，文件名称及文号",
    "deadline": "整改期限",
    "progress": "整改进展",
}

# Registry (附件1) fields: canonical key -> label.
REGISTRY_FIELDS = {
    "enterprise": "公司/企业名称",
    "responsible_unit": "责任单位",
    "head": "企业主要负责人",
    "head_phone": "联系电话",
    "leader": "挂点领导",
    "leader_phone": "联系电话",
    "cadre": "责任干部",
    "cadre_phone": "联系电话",
}
