"""Labels shown to people: Chinese by default, English on request.

Domain labels (sectors, statuses, supervision levels, unit types, indicators) come
from ``loaders.reference`` so each concept has one Chinese name in the product.
"""

from __future__ import annotations

from loaders.reference import INDICATOR_BY_KEY, SECTOR_LABELS, STATUS_LABELS, SUPERVISION_LABELS, UNIT_TYPE_LABELS

LANGUAGES = ("zh", "en")

_EN_SECTORS = {
    "road_traffic": "Road traffic", "fire": "Fire", "construction": "Construction", "mining": "Mining",
    "hazardous_chemicals": "Hazardous chemicals", "industry_trade": "Industry & trade", "urban_gas": "Urban gas",
    "special_equipment": "Special equipment", "agriculture": "Agriculture", "other": "Other", "unknown": "Not given",
}
_EN_STATUS = {"rectified": "Rectified", "in_progress": "In progress", "not_started": "Not started"}
_EN_SUPERVISION = {"province": "Province", "city": "City", "county": "County", "none": "None"}
_EN_UNIT_TYPES = {"county": "County", "zone": "Zone", "department": "Department", "unknown": "Unknown"}

# UI words: key -> (Chinese, English).
UI = {
    "app_title": ("赣州市重大事故隐患专项排查整治", "Ganzhou Major Hazard Campaign"),
    "overview": ("总览", "Overview"),
    "hazards": ("隐患", "Hazards"),
    "map": ("挂图作战", "Map"),
    "enforcement": ("执法", "Enforcement"),
    "training": ("培训与推动", "Training & leadership"),
    "dispatch": ("周调度", "Weekly dispatch"),
    "annotations": ("批注", "Annotations"),
    "data": ("数据", "Data"),
    "meeting": ("会议大屏", "Meeting screen"),
    "url_dropped": ("链接中有无法识别的筛选值，已忽略：{values}", "The link held filter values this dataset does not know; ignored: {values}"),
    "units": ("单位", "Units"),
    "unit_type": ("单位类型", "Unit type"),
    "sectors": ("行业领域", "Sectors"),
    "statuses": ("整改状态", "Status"),
    "supervision": ("督办层级", "Supervision"),
    "overdue_only": ("仅看逾期", "Overdue only"),
    "periods": ("报送期间", "Periods"),
    "deadline_range": ("整改期限", "Deadline"),
    "search": ("搜索企业、隐患描述、整改措施", "Search enterprise, description, measures"),
    "reset": ("清除筛选", "Reset filters"),
    "all": ("全部", "All"),
    "no_data": ("当前筛选条件下没有数据。", "No data for this filter."),
    "no_submission": ("尚未导入任何报送数据，请在“数据”页上传台账和调度表。", "No submissions yet: upload workbooks on the Data page."),
    "as_of": ("统计日期", "As of"),
    "language": ("English", "中文"),
}


def tr(key: str, lang: str = "zh") -> str:
    zh, en = UI[key]
    return en if lang == "en" else zh


def sector_label(key: str, lang: str = "zh") -> str:
    if lang == "en":
        return _EN_SECTORS.get(key, key)
    return SECTOR_LABELS.get(key, "未填写" if key == "unknown" else key)


def status_label(key: str, lang: str = "zh") -> str:
    return (_EN_STATUS if lang == "en" else STATUS_LABELS).get(key, key)


def supervision_label(key: str, lang: str = "zh") -> str:
    return (_EN_SUPERVISION if lang == "en" else SUPERVISION_LABELS).get(key, key)


def unit_type_label(key: str, lang: str = "zh") -> str:
    return (_EN_UNIT_TYPES if lang == "en" else UNIT_TYPE_LABELS).get(key, key)


def indicator_label(key: str, lang: str = "zh") -> str:
    indicator = INDICATOR_BY_KEY[key]
    return key.replace("_", " ") if lang == "en" else indicator.label


def register_labels(labels: dict[str, tuple[str, str]]) -> None:
    """Add a module's own UI words (key -> (Chinese, English)); a key is defined once."""
    for key, value in labels.items():
        if key in UI and UI[key] != value:
            raise ValueError(f"label {key!r} is already defined as {UI[key]!r}")
        UI[key] = value


_PAGER_ZH = {"first": "首页", "first_title": "首页", "last": "末页", "last_title": "末页", "prev": "上一页",
             "prev_title": "上一页", "next": "下一页", "next_title": "下一页", "page_title": "跳至此页"}


def tabulator_locale(lang: str = "zh") -> dict:
    """Tabulator ``configuration`` entries that put its pager in the session's language
    (Tabulator's own words are English)."""
    return {} if lang == "en" else {"locale": "zh", "langs": {"zh": {"pagination": _PAGER_ZH}}}
