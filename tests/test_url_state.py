"""A link is anyone's text: values the dataset does not know are dropped from the session state."""

from __future__ import annotations

from components.html_text import choice_options, text
from components.state import SEARCH_MAX_CHARS, DashboardState, drop_unknown_values

MARKUP = '<img src=x onerror="alert(1)">'


def test_unknown_units_sectors_statuses_levels_periods_and_ids_are_dropped_and_reported():
    state = DashboardState(units=["章贡区", MARKUP], sectors=["fire", MARKUP], statuses=["rectified", "x"],
                           supervision_levels=["city", "nation"], period_start="2023-13", period_end="2023-09",
                           hazard=MARKUP, search="储罐")
    dropped = drop_unknown_values(state, units=["章贡区", "南康区"], periods=["2023-08", "2023-09"])
    assert (state.units, state.sectors, state.statuses, state.supervision_levels) == (["章贡区"], ["fire"], ["rectified"], ["city"])
    assert (state.period_start, state.period_end, state.hazard, state.search) == ("", "2023-09", "", "储罐")
    assert sorted(dropped) == sorted([MARKUP, MARKUP, "x", "nation", "2023-13", MARKUP])


def test_a_well_formed_state_is_left_alone_and_a_long_search_is_cut():
    state = DashboardState(units=["南康区"], period_end="2023-08", hazard="0123456789abcdef", search="字" * (SEARCH_MAX_CHARS + 5))
    dropped = drop_unknown_values(state, units=["南康区"], periods=["2023-08"])
    assert state.units == ["南康区"] and state.period_end == "2023-08" and state.hazard == "0123456789abcdef"
    assert len(state.search) == SEARCH_MAX_CHARS and len(dropped) == 1


def test_text_and_choice_labels_are_escaped():
    assert text(MARKUP) == "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;"
    assert text(None) == "" and text(float("nan")) == "" and text(12) == "12"
    assert choice_options(["章贡区", MARKUP]) == {"章贡区": "章贡区", text(MARKUP): MARKUP}


def test_a_link_applied_again_by_the_browser_is_checked_again_and_named_once(shared, monkeypatch):
    """The browser sends the address it was opened with once more after loading; the state only
    ever holds checked values and the notice names the dropped ones once."""
    import panel as pn
    from panel.io.location import Location

    from dashboards.app import sync_url

    link = "?page=hazards&period_start=2031-01&units=%5B%22%E4%B8%8D%E5%AD%98%E5%9C%A8%E5%8E%BF%22%2C%22%E7%AB%A0%E8%B4%A1%E5%8C%BA%22%5D"
    location = Location(search=link)
    pending: list = []
    monkeypatch.setattr(type(pn.state), "location", property(lambda self: location))
    monkeypatch.setattr(type(pn.state), "onload", lambda self, callback, threaded=False: pending.append(callback))
    state = DashboardState()
    seen = []
    state.param.watch(lambda event: seen.append((event.name, event.new)), ["units", "period_start"])
    sync_url(state, shared)
    assert (state.page, state.units, state.period_start) == ("hazards", ["章贡区"], "")
    location.search = link  # the browser's second application
    assert (state.units, state.period_start) == (["章贡区"], "")
    assert ("period_start", "2031-01") not in seen and all("不存在县" not in value for name, value in seen if name == "units")
    notices = [callback for callback in pending if getattr(callback, "args", None)]
    assert [notice.args[0] for notice in notices] == ["链接中有无法识别的筛选值，已忽略：不存在县、2031-01"]
