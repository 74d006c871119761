"""Briefing packs (简报): Word, PDF, Excel, slides and chart images built from the same figures
(``metrics``) and HoloViews chart definitions (``components``) the screen uses; notice boards."""
