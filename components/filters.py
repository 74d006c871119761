"""The hazard filter every page shares: the sidebar panel and the hazards it selects.

``FilterPanel`` shows one widget per filter parameter of ``DashboardState``, linked
both ways: a widget change sets the state, a state change (URL, a click on a chart,
the reset button) sets the widget. Each direction writes only when the value differs,
so a change never echoes back.

``HazardSelection`` applies the filter once per change for a whole session; every view
of a page reads its ``mask``/``hazards`` instead of filtering again, and all of them
update within one held document change.
"""

from __future__ import annotations

from collections.abc import Callable

import panel as pn
import param

from components.data import CampaignSnapshot, SharedCampaign
from components.html_text import choice_options
from components.i18n import register_labels, sector_label, status_label, supervision_label, tr, unit_type_label
from components.page_view import Lifecycle, session_hold, session_scope
from components.state import FILTER_PARAMS, DashboardState
from loaders.reference import SECTOR_KEYS, SUPERVISION_LABELS, UNIT_TYPES
from metrics.filters import filter_mask
from metrics.hazards import STATUSES, HazardIndex

register_labels({
    "filters": ("筛选条件", "Filters"),
    "first_reported_from": ("首次报送（起）", "First reported from"),
    "first_reported_to": ("首次报送（止）", "First reported to"),
    "deadline_from": ("整改期限（起）", "Deadline from"),
    "deadline_to": ("整改期限（止）", "Deadline to"),
    "any_period": ("不限", "Any"),
    "search_placeholder": ("输入关键词后按回车", "Type words, then press Enter"),
})

SIDEBAR_WIDGET_WIDTH = 260

def hazard_index(snapshot: CampaignSnapshot) -> HazardIndex:
    return snapshot.derived("hazard_index", lambda: HazardIndex.build(snapshot.campaign))


class HazardSelection(param.Parameterized):
    """The unique hazards one session's filter leaves, over the current shared snapshot."""

    snapshot = param.ClassSelector(class_=CampaignSnapshot)
    mask = param.Array(doc="Boolean mask over snapshot.campaign.unique_hazards")
    hazards = param.DataFrame(doc="The unique hazards the filter leaves")

    def __init__(self, state: DashboardState, shared: SharedCampaign, **params):
        super().__init__(**params)
        self.state = state  # the session state whose filter this applies (read-only here)
        self._shared = shared
        self.lifecycle = Lifecycle()  # released with the session (SessionScope.release)
        self._apply()
        self.lifecycle.watch(state, self._apply, [*FILTER_PARAMS, "data_revision"])

    @classmethod
    def for_session(cls, state: DashboardState, shared: SharedCampaign) -> HazardSelection:
        """One selection per session (held by the session's scope, dropped when it ends), so the
        pages rebuilt on a language switch do not add watchers."""
        return session_scope(state).get("hazard_selection", lambda: cls(state, shared))

    def _apply(self, *_events) -> None:
        snapshot = self._shared.snapshot
        unique = snapshot.campaign.unique_hazards
        mask = filter_mask(unique, self.state.hazard_filter, snapshot.search_text).to_numpy(dtype=bool)
        # Every view of the page updates in one document patch. Not frozen: the views change
        # data and factors, never the model graph, and a freeze walks the whole graph on exit.
        with session_hold():
            self.param.update(snapshot=snapshot, mask=mask, hazards=unique[mask])


def _options(keys, label: Callable[[str, str], str], lang: str) -> dict[str, str]:
    return {label(key, lang): key for key in keys}


class FilterPanel(pn.viewable.Viewer):
    """The sidebar filters, bound both ways to the session's ``DashboardState``."""

    state = param.ClassSelector(class_=DashboardState)
    shared = param.ClassSelector(class_=SharedCampaign)

    def __init__(self, **params):
        super().__init__(**params)
        width = {"width": SIDEBAR_WIDGET_WIDTH}
        self._widgets = {
            "units": pn.widgets.MultiChoice(**width, css_classes=["hb-filter-units"]),
            "unit_type": pn.widgets.Select(**width, css_classes=["hb-filter-unit-type"]),
            "sectors": pn.widgets.MultiChoice(**width, css_classes=["hb-filter-sectors"]),
            "statuses": pn.widgets.MultiChoice(**width, css_classes=["hb-filter-statuses"]),
            "supervision_levels": pn.widgets.MultiChoice(**width, css_classes=["hb-filter-supervision"]),
            "overdue_only": pn.widgets.Checkbox(css_classes=["hb-filter-overdue"]),
            "period_start": pn.widgets.Select(width=125, css_classes=["hb-filter-period-start"]),
            "period_end": pn.widgets.Select(width=125, css_classes=["hb-filter-period-end"]),
            "deadline_start": pn.widgets.DatePicker(width=125, css_classes=["hb-filter-deadline-start"]),
            "deadline_end": pn.widgets.DatePicker(width=125, css_classes=["hb-filter-deadline-end"]),
            # ``value`` changes on Enter or when the box loses focus, not on every keystroke.
            "search": pn.widgets.TextInput(**width, css_classes=["hb-filter-search"]),
        }
        for widget in self._widgets.values():
            # Panel waits 50 ms (``_debounce``) before it acts on a widget change, to merge bursts
            # of events; these widgets send one value per deliberate change (a pick, a tick,
            # Enter), so the wait would only add to every filter change.
            widget._debounce = 0
        self._reset = pn.widgets.Button(color="default", **width, css_classes=["hb-filter-reset"])
        self._reset.on_click(lambda _event: self.state.reset_filters())
        self._title = pn.pane.Markdown(margin=(0, 10))
        # The panel lives as long as the session: its links to the state go with the session's scope.
        self._lifecycle = session_scope(self.state)
        self._relabel()
        for name in FILTER_PARAMS:
            self._widgets[name].value = getattr(self.state, name)
            self._link(name)
        self._lifecycle.watch(self.state, self._relabel, ["lang", "data_revision"])
        w = self._widgets
        self._layout = pn.Column(
            self._title, w["units"], w["unit_type"], w["sectors"], w["statuses"], w["supervision_levels"],
            w["overdue_only"], pn.Row(w["period_start"], w["period_end"]), pn.Row(w["deadline_start"], w["deadline_end"]),
            w["search"], self._reset, sizing_mode="stretch_width", css_classes=["hb-filters"],
        )

    def _link(self, name: str) -> None:
        widget = self._widgets[name]

        def to_state(event) -> None:
            if getattr(self.state, name) != event.new:
                setattr(self.state, name, event.new)

        def to_widget(event) -> None:
            if widget.value != event.new:
                widget.value = event.new

        widget.param.watch(to_state, "value")
        self._lifecycle.watch(self.state, to_widget, name)

    def _relabel(self, *_events) -> None:
        """Widget names and option labels in the session's language; units and periods of the current data."""
        lang, snapshot, w = self.state.lang, self.shared.snapshot, self._widgets
        periods = {tr("any_period", lang): "", **{period: period for period in snapshot.periods}}
        w["units"].param.update(label=tr("units", lang), options=choice_options(snapshot.units))
        w["unit_type"].param.update(label=tr("unit_type", lang), options={
            tr("all", lang): "", **_options(UNIT_TYPES, unit_type_label, lang)})
        w["sectors"].param.update(label=tr("sectors", lang), options=_options(SECTOR_KEYS, sector_label, lang))
        w["statuses"].param.update(label=tr("statuses", lang), options=_options(STATUSES, status_label, lang))
        w["supervision_levels"].param.update(label=tr("supervision", lang),
                                             options=_options(SUPERVISION_LABELS, supervision_label, lang))
        w["overdue_only"].label = tr("overdue_only", lang)
        w["period_start"].param.update(label=tr("first_reported_from", lang), options=periods)
        w["period_end"].param.update(label=tr("first_reported_to", lang), options=periods)
        w["deadline_start"].label = tr("deadline_from", lang)
        w["deadline_end"].label = tr("deadline_to", lang)
        w["search"].param.update(label=tr("search", lang), placeholder=tr("search_placeholder", lang))
        self._reset.label = tr("reset", lang)
        self._title.object = f"#### {tr('filters', lang)}"

    def __panel__(self) -> pn.viewable.Viewable:
        return self._layout
