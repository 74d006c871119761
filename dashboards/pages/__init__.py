"""The dashboard pages: each module exposes build(state, snapshot, shared)."""
