"""Figures computed from the campaign dataset: filters, KPIs, quotas, rankings, weekly changes.

Pure pandas over ``loaders.Campaign`` frames, with no Panel: the screen, the meeting
mode and the briefing exports all take their numbers from here, so a figure is
computed by one function wherever it is shown.
"""
