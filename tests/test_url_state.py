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
