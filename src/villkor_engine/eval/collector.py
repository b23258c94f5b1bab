"""`paused_gc`, re-exported: it moved to `villkor_engine.gcpause`, below both the evaluator and
the writers that pause the collector (the writers sit above eval and must not reach into it for
something that is not evaluation)."""

from __future__ import annotations

from ..gcpause import paused_gc

__all__ = ["paused_gc"]
