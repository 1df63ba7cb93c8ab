"""Preview: the decision with its trace, and every variant, for one sample interaction.

A pure library (no Flask, no database): the studio passes a plain `Workspace`, an
interaction and optionally the artifact being edited (`Draft`), and gets plain values
back. See docs/preview.md.
"""

from __future__ import annotations

from preview.engine import (
    TRACE_ROWS,
    Compiler,
    Draft,
    Preview,
    Problem,
    RenderedOffer,
    Workspace,
    preview,
)
from preview.matrix import Matrix, Sample, run_matrix
from preview.tone import Lexicon, Tone, infer_tone, with_inferred_tone

__all__ = [
    "TRACE_ROWS",
    "Compiler",
    "Draft",
    "Lexicon",
    "Matrix",
    "Preview",
    "Problem",
    "RenderedOffer",
    "Sample",
    "Tone",
    "Workspace",
    "infer_tone",
    "preview",
    "run_matrix",
    "with_inferred_tone",
]
