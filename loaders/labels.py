"""Recognising the printed labels of the forms in whatever spelling a cell holds them."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from .reference import INDICATORS, PAIR_LABELS
from .values import normalize_text

_UNIT_SUFFIX = re.compile(r"[（(][^（）()]*[)）]\s*$")
_NUMBERING = re.compile(r"^\s*(?:\d+|[一二三四五六七八九十]+)\s*[.、．)）]\s*")


@dataclass(frozen=True)
class LabelMatch:
    keys: tuple[str, ...]  # one key, or two for a label carrying two values
    form: int | None  # 4 when the wording is 附件4's own, 3 when 附件3's own, None when shared


def _core(label: str) -> str:
    return normalize_text(_UNIT_SUFFIX.sub("", label))


def _build_index() -> tuple[dict[str, LabelMatch], dict[str, LabelMatch]]:
    exact: dict[str, LabelMatch] = {}
    core: dict[str, LabelMatch] = {}
    for ind in INDICATORS:
        only = ind.forms[0] if len(ind.forms) == 1 else None
        variants = [(ind.label, only if ind.department_label is None else 3)]
        if ind.department_label:
            variants.append((ind.department_label, 4))
        for label, form in variants:
            match = LabelMatch((ind.key,), form)
            exact.setdefault(normalize_text(label), match)
            core.setdefault(_core(label), match)
    for label, first, second in PAIR_LABELS:
        match = LabelMatch((first, second), None)
        exact[normalize_text(label)] = match
        core[normalize_text(label.split("（")[0])] = match  # 行政处罚 alone names the pair
    return exact, core


_EXACT, _CORE = _build_index()
_CORES_LONGEST_FIRST = sorted(_CORE.items(), key=lambda item: len(item[0]), reverse=True)


@lru_cache(maxsize=65536)
def match_indicator_label(text: str) -> LabelMatch | None:
    """The indicator(s) a label cell names, tolerating wrapped lines, spaces, numbering and
    unit suffixes written differently; None for anything that is not a label."""
    if not text or len(text) > 80:
        return None
    stripped = _NUMBERING.sub("", text)
    norm = normalize_text(stripped)
    if len(norm) < 4 or norm.replace(".", "").isdigit():
        return None
    if norm in _EXACT:
        return _EXACT[norm]
    core = _core(stripped)
    if core in _CORE:
        return _CORE[core]
    # A label with a few extra characters ("其中：危险作业罪案例数"): longest contained core.
    for known, match in _CORES_LONGEST_FIRST:
        if len(known) >= 5 and known in norm and len(norm) <= len(known) + 6:
            return match
    return None


# Ledger (附件2) headers: canonical key and the words that identify the column.
# Checked in order: the first rule whose words all occur wins.
_LEDGER_HEADER_RULES = (
    ("seq", ("序号",)),
    ("supervision", ("督办",)),
    ("deadline", ("期限",)),
    ("deadline", ("时限",)),
    ("progress", ("进展",)),
    ("progress", ("进度",)),
    ("progress", ("整改情况",)),
    ("measures", ("措施",)),
    ("description", ("描述",)),
    ("description", ("隐患内容",)),
    ("description", ("隐患情况",)),
    ("sector", ("行业",)),
    ("sector", ("领域",)),
    ("enterprise", ("企业",)),
    ("enterprise", ("项目",)),
    ("enterprise", ("单位名称",)),
    ("unit", ("县市区",)),
    ("unit", ("部门",)),
    ("unit", ("地区",)),
    ("unit", ("填报单位",)),
)


@lru_cache(maxsize=4096)
def match_ledger_header(text: str) -> str | None:
    norm = normalize_text(text)
    if not norm or len(norm) > 30:
        return None
    for key, words in _LEDGER_HEADER_RULES:
        if words[0] in norm and all(word in norm for word in words[1:]):
            return key
    return None


# Registry (附件1) headers; 联系电话 columns belong to the person column before them.
_REGISTRY_HEADER_RULES = (
    ("enterprise", ("企业名称",)),
    ("enterprise", ("公司",)),
    ("responsible_unit", ("责任单位",)),
    ("head", ("主要负责人",)),
    ("leader", ("挂点领导",)),
    ("cadre", ("责任干部",)),
    ("phone", ("电话",)),
)


@lru_cache(maxsize=4096)
def match_registry_header(text: str) -> str | None:
    norm = normalize_text(text)
    if not norm or len(norm) > 20:
        return None
    for key, words in _REGISTRY_HEADER_RULES:
        if words[0] in norm and all(word in norm for word in words[1:]):
            return key
    return None


# Group headings of a ledger grouped by sector: "一、消防安全（3条）", "（二）城镇燃气", "第一类：矿山".
_CN_NUMERAL = "一二三四五六七八九十百"
_GROUP_NUMBERING = re.compile(
    rf"^\s*(?:第\s*[{_CN_NUMERAL}\d]+\s*[类项部分组]?\s*[、.．:：,，]?"
    rf"|[{_CN_NUMERAL}]+\s*[、.．,，:：]"
    rf"|[（(]\s*(?:[{_CN_NUMERAL}]+|\d{{1,2}})\s*[)）]\s*[、.．]?"
    rf"|(?P<arabic>\d{{1,2}})\s*[、．.](?!\d))\s*"
)
_GROUP_BARE_NUMERAL = re.compile(rf"^\s*(?:[（(]\s*[{_CN_NUMERAL}]+\s*[)）]|[{_CN_NUMERAL}]+|第\s*[{_CN_NUMERAL}]+\s*[类项部分组]?)\s*[、.．]?\s*$")
_GROUP_COUNT = re.compile(r"\s*[（(]\s*(?:共\s*)?\d+\s*(?:条|项|处|个|家)?\s*[)）]\s*$")
_GROUP_TRAILER = re.compile(r"[\s:：、.．,，;；]+$")


@dataclass(frozen=True)
class GroupHeading:
    text: str  # the heading without its numbering and count: "消防安全"
    numbered: bool  # "一、", "（二）", "第一类"
    arabic: bool  # numbered "1、" (weaker: hazard text may start so too)
    counted: bool  # "（3条）"


def group_heading_text(text: str) -> GroupHeading | None:
    """A ledger group heading's parts, or None when the text cannot be one (too long, nothing left)."""
    if not text or len(text) > 40 or "\n" in text.strip():
        return None
    m = _GROUP_NUMBERING.match(text)
    rest = text[m.end():] if m else text
    counted = bool(_GROUP_COUNT.search(rest))
    rest = _GROUP_TRAILER.sub("", _GROUP_COUNT.sub("", rest)).strip()
    rest = _GROUP_TRAILER.sub("", rest)
    if not rest or len(rest) > 24:
        return None
    return GroupHeading(rest, m is not None, bool(m and m.group("arabic")), counted)


def is_bare_group_numeral(text: str) -> bool:
    """"一", "二、", "（三）", "第一类": a group number written in a cell of its own."""
    return bool(text) and bool(_GROUP_BARE_NUMERAL.match(text))


def starts_with_group_numbering(text: str) -> bool:
    m = _GROUP_NUMBERING.match(text or "")
    return bool(m and not m.group("arabic"))


TOTAL_ROW = re.compile(r"^\s*(合\s*计|总\s*计|小\s*计|累\s*计)")
NOTE_ROW = re.compile(r"^\s*(注|备注|说明|填报说明)\s*[:：0-9１-９.、]")
FOOTER_ROW = re.compile(r"^\s*(填报人|审核人|负责人|联系人|联系电话|制表人|单位负责人)")
