"""villkor-engine: conditions and payments of funding agreements, written by policy staff in a
small Swedish language, checked, and evaluated to exact verdicts and amounts.

Pipeline: syntax (grammar → syntax tree) → model (checked model) → eval (verdicts, money,
trace) → write / explain / cli (output). See `pipeline.py` for the stages wired together.
"""

__version__ = "0.1.0"
