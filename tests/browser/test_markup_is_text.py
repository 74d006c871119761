"""Text from a workbook or a link is shown as text and never runs (issue 8, point 1).

A campaign whose ledgers, forms and notice board carry markup in every text field (and in their
file and sheet names) is served; every page of the dashboard and every meeting slide is opened,
every chart with a hover tool is hovered, a hazard's detail is opened, and links whose query
parameters all carry markup are followed. A payload that ran would set ``window.__xss`` or open
a dialog; a tooltip or a detail shows the planted text literally.
"""

from __future__ import annotations

import json
import urllib.parse

import pytest
from openpyxl import Workbook

from sample_data.writers import write_form, write_ledger, write_registry
from store.annotations import add_annotation, unit_subject
from tests.browser.conftest import click_row_until, free_port, screenshot, start_server, stop_server, wait_ready

PAYLOAD = '<img src=x onerror="window.__xss=(window.__xss||0)+1">'
SCRIPT = "<script>window.__xss=1</script>"
SHEET = "<img src=x onerror=alert(1)>"  # a sheet name holds at most 31 characters
UNIT = f"{PAYLOAD}县"  # an unknown unit is kept as written, so its name reaches every unit list
DEPARTMENT = f"{PAYLOAD}局"  # a department too: the department rankings, spot checks and training figures
KNOWN_COUNTY = "章贡区"  # a county on the map, so the map is drawn; its hazards carry the markup in every other field
LEDGER_FILE = f"{PAYLOAD[:4]}{UNIT[-3:]}8月台账.xlsx"  # "<img">县8月台账.xlsx"
PAGES = ("overview", "hazards", "map", "enforcement", "training", "dispatch", "data", "annotations")
# An officer's annotation carries markup in its author, tag and Markdown text (raw HTML, a script link).
NOTE_TEXT = f"{PAYLOAD}{SCRIPT} **核实** [链接](javascript:window.__xss=1)"
SLIDES = range(5)
# Every chart with a hover tool, by page or slide: "<css class of the chart>/<glyph>" → whether the
# hovered item carries workbook text (a unit name). The others show fixed labels and figures only:
# sector and status labels are the contract's, the map's counties are its shapes, periods are parsed.
HOVERS = {
    "overview": {"hb-timeline/Quad": False, "hb-quota-local/HBar": True, "hb-quota-department/HBar": True},
    "hazards": {"hb-chart-by-unit/HBar": True, "hb-chart-heatmap/Rect": True, "hb-chart-status/VBar": False},
    "map": {"hb-map/MultiPolygons": False},
    "enforcement": {"hb-ranking-ind_counties_zones/HBar": True, "hb-ranking-ind_departments/HBar": True,
                    "hb-increments/VBar": False, "hb-increments/Scatter": False, "hb-increments-heatmap/Rect": True,
                    "hb-comparison/VBar": True},
    "training": {"hb-ranking-ind_departments/HBar": True, "hb-increments/VBar": False, "hb-increments/Scatter": False,
                 "hb-increments-heatmap/Rect": True, "hb-spot-heatmap/Rect": True, "hb-spot-trend/VBar": False},
    "dispatch": {},
    "data": {},
    "annotations": {},
    "slide 0": {"hb-meeting-overview/Quad": False},
    "slide 1": {},
    "slide 2": {"hb-meeting-map/MultiPolygons": False},
    "slide 3": {},
    "slide 4": {"hb-meeting-enforcement/HBar": True},
}

# For each hover tool of each drawn plot, one point of the plot where the pointer is over an item
# (found with the glyphs' own hit test, as the hover tool does): an item whose tooltip fields carry
# markup when there is one. Returns the points (canvas pixels) with the item's tooltip values.
HOVER_TARGETS_JS = """
() => {
  const targets = [];
  function label(view) {
    for (let v = view; v != null; v = v.parent) {
      const name = (v.model.css_classes || []).find((c) => c.startsWith("hb-") && !c.startsWith("hb-page"));
      if (name) return name;
    }
    return "";
  }
  function fields(tooltips) {
    const names = [];
    for (const [, spec] of Array.isArray(tooltips) ? tooltips : [])
      for (const match of String(spec).matchAll(/@\\{([^}]+)\\}|@(\\w+)/g)) names.push(match[1] || match[2]);
    return names;
  }
  function probe(view) {
    const model = view.model;
    for (const tool of model.toolbar.tools.filter((t) => t.type === "HoverTool")) {
      const renderers = tool.renderers === "auto" ? model.renderers.filter((r) => r.type === "GlyphRenderer") : tool.renderers;
      const rviews = renderers.map((r) => [r, view.views.find_one(r)]).filter(([, rv]) => rv != null && rv.hit_test);
      const shown = fields(tool.tooltips);
      const marked = rviews.some(([r]) => shown.some((f) => Array.from(r.data_source.data[f] || [], String).some((v) => v.includes("<"))));
      const {x0, y0, x1, y1} = view.frame.bbox;
      let found = null;
      for (let sy = y0 + 2; sy < y1 - 1 && !(found && found.hostile); sy += 5) {
        for (let sx = x0 + 2; sx < x1 - 1 && !(found && found.hostile); sx += 5) {
          for (const [renderer, rview] of rviews) {
            const hit = rview.hit_test({type: "point", sx, sy});
            if (hit == null || hit.indices.length === 0) continue;
            const data = renderer.data_source.data;
            const values = shown.filter((f) => f in data).map((f) => String(data[f][hit.indices[0]]));
            const hostile = values.some((v) => v.includes("<"));
            if (found == null || hostile) found = {label: `${label(view)}/${renderer.glyph.type}`, view, sx, sy, values, hostile};
            if (hostile || !marked) break;
          }
          if (found && !marked) break;
        }
        if (found && !marked) break;
      }
      if (found) targets.push(found);
    }
  }
  function walk(view) {
    if (view == null) return;
    if (view.frame && view.model.toolbar && view.el.isConnected) probe(view);
    if (view.children) for (const child of view.children()) walk(child);
  }
  for (const root of Object.values(Bokeh.index)) walk(root);
  window.__hbHoverTargets = targets;
  return targets.map(({view, ...target}) => target);
}
"""
# The viewport position of a target, its plot scrolled into view.
LOCATE_JS = """
(index) => {
  const {view, sx, sy} = window.__hbHoverTargets[index];
  view.el.scrollIntoView({block: "center"});
  const rect = view.canvas_view.el.getBoundingClientRect();
  return {x: rect.left + sx, y: rect.top + sy};
}
"""
# The text of the tooltips on screen (Bokeh appends them to the page, each in its own shadow root), or null.
TOOLTIP_JS = """
() => {
  const texts = [];
  function search(root) {
    for (const element of root.querySelectorAll("*")) {
      if (element.classList.contains("bk-tooltip-content") && element.getClientRects().length > 0) texts.push(element.innerText);
      if (element.shadowRoot) search(element.shadowRoot);
    }
  }
  search(document);
  return texts.length ? texts.join("\\n") : null;
}
"""
# An element's text, shadow roots included (Panel draws each pane in one).
DEEP_TEXT_JS = """
(element) => {
  function text(node) {
    if (node.nodeType === Node.TEXT_NODE) return node.textContent;
    if (node.nodeName === "STYLE" || node.nodeName === "SCRIPT") return "";
    let out = node.shadowRoot ? text(node.shadowRoot) : "";
    for (const child of node.childNodes) out += text(child);
    return out;
  }
  return text(element);
}
"""


def _ledger_rows(unit: str, numbers: range | tuple[int, ...], deadline: str = "2023年6月30日") -> list[dict]:
    return [{
        "unit": unit, "enterprise": f"{PAYLOAD}企业{n}", "sector": f"{PAYLOAD}危化", "description": f"{PAYLOAD}描述{n}",
        "measures": f"{SCRIPT}措施{n}", "supervision": f"市级挂牌督办{PAYLOAD}", "deadline": deadline, "progress": f"整改中{PAYLOAD}",
    } for n in numbers]


def _hostile_campaign(folder) -> None:
    """Two months of ledgers and forms; every text field, file name and sheet name carries markup."""
    for month in (7, 8):
        ledgers = {
            UNIT: _ledger_rows(UNIT, range(3)) + _ledger_rows(UNIT, (3,), deadline=f"{PAYLOAD}前"),
            KNOWN_COUNTY: _ledger_rows(KNOWN_COUNTY, (9,)),
        }
        for unit, rows in ledgers.items():
            workbook = Workbook()
            workbook.active.title = SHEET
            write_ledger(workbook.active, rows, unit_label=unit, title=f"2023年{month}月重大事故隐患排查整治台账")
            workbook.save(folder / f"{PAYLOAD[:4]}{unit[-3:]}{month}月台账.xlsx")
        for unit, form in ((UNIT, 3), (DEPARTMENT, 4)):
            # The department's penalties and training fall in August: the decrease markers and tables are drawn too.
            rising_or_falling = month - 5 if form == 3 else 12 - month
            values = {"self_found": 3 * month, "dept_found": 2, "penalties": rising_or_falling, "fines_wan": 2.5,
                      "checked_enterprises": 10 * month, "chk_head_no_study": month - 6, "chk_no_drill": 1,
                      "enforcer_training": rising_or_falling, "lectures": month, "typical_cases": PAYLOAD, "media_column": "是"}
            workbook = Workbook()
            workbook.active.title = SHEET
            write_form(workbook.active, values, form=form, unit_label=unit, title_period_text=f"（2023年{month}月）",
                       filed_on_text=f"2023年{month + 1}月20日{PAYLOAD}")
            workbook.save(folder / f"{PAYLOAD[:4]}{unit[-1]}{month}月调度表.xlsx")
    workbook = Workbook()
    write_registry(workbook.active, [{"enterprise": f"{PAYLOAD}企业{n}", "responsible_unit": PAYLOAD, "head": PAYLOAD,
                                      "head_phone": PAYLOAD, "leader": PAYLOAD, "leader_phone": PAYLOAD, "cadre": PAYLOAD,
                                      "cadre_phone": PAYLOAD} for n in (0, 3, 9)], layout="board")
    workbook.save(folder / f"{PAYLOAD[:4]}公示牌.xlsx")


@pytest.fixture(scope="module")
def hostile_server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("hostile")
    _hostile_campaign(folder)
    store = tmp_path_factory.mktemp("store")
    process = start_server(store, port := free_port(), data=[str(folder)], log_name="server-hostile")
    add_annotation(store, unit_subject(UNIT), NOTE_TEXT, author=PAYLOAD, tag=SHEET, allowed_tags=None)
    yield f"http://localhost:{port}"
    stop_server(process)


def _visit(page, url: str) -> None:
    page.goto(url)
    wait_ready(page, timeout=60_000)
    page.wait_for_timeout(500)  # an image error handler fires after the image fails to load


def _assert_nothing_ran(page, dialogs: list[str], where: str) -> None:
    assert page.evaluate("() => window.__xss") is None, f"markup ran on {where}"
    assert dialogs == [], f"a dialog opened on {where}"


def _hover_every_chart(page, where: str, shot: str | None = None) -> dict[str, bool]:
    """Hover one item of every hover tool on the page; each tooltip shows the item's workbook text
    literally. Returns chart → whether its hovered item carried markup. ``shot``: a screenshot of the
    first tooltip with markup."""
    hovered: dict[str, bool] = {}
    for index, target in enumerate(page.evaluate(HOVER_TARGETS_JS)):
        position = page.evaluate(LOCATE_JS, index)
        page.mouse.move(position["x"], position["y"])
        tooltip = page.wait_for_function(TOOLTIP_JS, timeout=10_000).json_value()
        for value in target["values"]:
            if "<" in value:
                assert value in tooltip, f"{where}, {target['label']}: {value!r} not shown as text in {tooltip!r}"
        if shot and target["hostile"]:
            screenshot(page, shot)
            shot = None
        hovered[target["label"]] = hovered.get(target["label"], False) or target["hostile"]
        page.mouse.move(0, 0)
        page.wait_for_function(f"() => ({TOOLTIP_JS})() === null", timeout=10_000)
    return hovered


def _open_hostile_hazard_detail(page) -> str:
    """Click the hazard whose deadline is markup; returns the detail's text."""
    cell = page.locator(".hb-hazard-table .tabulator-cell[tabulator-field='enterprise']", has_text="企业3").first
    click_row_until(page, cell, "() => Boolean(new URLSearchParams(location.search).get('hazard'))")
    detail = page.locator(".hb-hazard-detail")
    detail.locator(".hb-detail-source").wait_for()
    return detail.evaluate(DEEP_TEXT_JS)


def test_workbook_text_with_markup_stays_text_on_every_page_slide_hover_and_detail(hostile_server, page):
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    hovers: dict[str, dict[str, bool]] = {}
    for name in PAGES:
        _visit(page, f"{hostile_server}/?page={name}")
        hovers[name] = _hover_every_chart(page, name, shot="markup-hover" if name == "hazards" else None)
        _assert_nothing_ran(page, dialogs, name)
        if name == "hazards":
            # The table lists the enterprise, the detail every field of the ledger row and of its notice board.
            assert "<img src=x" in page.locator(".tabulator-table").first.inner_text()
            detail = _open_hostile_hazard_detail(page)
            for shown in (f"{PAYLOAD}企业3", f"单位：{UNIT}", f"{PAYLOAD}描述3", f"{SCRIPT}措施3", f"整改期限：{PAYLOAD}前",
                          f"整改中{PAYLOAD}", f"挂点领导：{PAYLOAD} {PAYLOAD}", f"企业主要负责人：{PAYLOAD} {PAYLOAD}",
                          f"责任干部：{PAYLOAD} {PAYLOAD}", f"责任单位：{PAYLOAD}", f"{LEDGER_FILE} · {SHEET}"):
                assert shown in detail, f"{shown!r} not shown as text in the hazard detail: {detail!r}"
            screenshot(page, "markup-hazards")
            _assert_nothing_ran(page, dialogs, "the hazard detail")
        if name == "annotations":
            listed = page.locator(".hb-page-annotations").first.evaluate(DEEP_TEXT_JS)
            assert PAYLOAD in listed and SHEET in listed, listed  # author and tag shown as text
        if name == "overview":  # the export dialog lists every unit, the hostile one as text
            page.locator(".hb-export-open button").first.click()
            page.locator(".hb-export-dialog .hb-export-build button").wait_for()
            options = page.locator(".hb-export-scope select option").all_inner_texts()
            assert UNIT in options, options
            page.wait_for_timeout(500)
            _assert_nothing_ran(page, dialogs, "the export dialog")
    units = urllib.parse.quote(json.dumps([UNIT], ensure_ascii=False))
    for slide in SLIDES:
        _visit(page, f"{hostile_server}/meeting?slide={slide}&units={units}")
        hovers[f"slide {slide}"] = _hover_every_chart(page, f"meeting slide {slide}")
        _assert_nothing_ran(page, dialogs, f"meeting slide {slide}")
        if slide == 0:
            assert "<img src=x" in page.locator(".hb-slide-title").first.inner_text()
    screenshot(page, "markup-meeting")
    assert hovers == HOVERS
    assert page.console_log.errors == []


def test_markup_in_every_url_parameter_is_dropped_or_shown_as_text(hostile_server, page):
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    hostile = json.dumps([PAYLOAD])
    # Every parameter the dashboard (components.state.URL_PARAMS) and the meeting screen (slide) read.
    query = {name: PAYLOAD for name in ("page", "unit_type", "period_start", "period_end", "search", "hazard", "lang",
                                         "measure", "deadline_start", "deadline_end", "overdue_only", "slide")}
    query.update({name: hostile for name in ("units", "sectors", "statuses", "supervision_levels")})
    for route in ("/", "/meeting"):
        _visit(page, f"{hostile_server}{route}?{urllib.parse.urlencode(query)}")
        _assert_nothing_ran(page, dialogs, route)
        assert page.console_log.errors == []
        # Every route names what it ignored, once, as text.
        notice = page.locator(".notyf__message")
        notice.first.wait_for(timeout=20_000)
        assert "已忽略" in notice.first.inner_text() and "<img src=x" in notice.first.inner_text()
        page.wait_for_timeout(1000)
        assert notice.count() == 1, route
    # The meeting screen refused the slide: it shows the first one.
    assert "1/5" in page.locator(".hb-sub").first.inner_text()
    # The dashboard says which values it ignored, as text.
    _visit(page, f"{hostile_server}/?units={urllib.parse.quote(hostile)}")
    notice = page.locator(".notyf__message").first
    notice.wait_for(timeout=20_000)
    assert "已忽略" in notice.inner_text() and "<img src=x" in notice.inner_text()
    _assert_nothing_ran(page, dialogs, "notice")
