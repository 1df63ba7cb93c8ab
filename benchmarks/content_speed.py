"""How fast the content library renders an offer and compiles a layout.

Two figures matter to the product: rendering all six variants of one offer for one
interaction must fit in 10 ms (it runs on every decision that makes an offer), and
compiling an MJML layout with mjml-python should stay far ahead of the official npm
``mjml`` (compilation runs on every layout save and bundle publish). The npm figure is
measured inside node, after start-up, in the same run; without node or
``tools/mjml-reference/node_modules`` the script says how to install it and skips the ratio.

Run: ``.venv/bin/python benchmarks/content_speed.py [--repeat N] [--json PATH]``
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from content.channels import VARIANTS, LinkBuilder, RenderContext, render_variants
from content.layouts import build_layout
from content.mjml import compile_mjml
from content.model import Layout, Offer
from content.placeholders import protect_jinja

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "studio" / "demo"
REFERENCE = ROOT / "tools" / "mjml-reference"
BUDGET_MS = 10.0


def load_demo() -> tuple[list[Offer], dict[str, Layout], dict[str, str]]:
    offers = [Offer.from_dict(d) for d in json.loads((DEMO / "offers.json").read_text())]
    specs = json.loads((DEMO / "layouts" / "layouts.json").read_text())
    sources = {s["key"]: (DEMO / "layouts" / s["file"]).read_text() for s in specs}
    layouts = {
        s["key"]: build_layout(s["key"], s["name"], s["channel"], sources[s["key"]]) for s in specs
    }
    mjml_sources = {k: v for k, v in sources.items() if v.lstrip().startswith("<mjml")}
    return offers, layouts, mjml_sources


def context() -> RenderContext:
    return RenderContext(
        customer={"id": "c-1", "first_name": "Ann", "tier": "gold", "authenticated": True},
        inquiry={"category": "transactional", "subject": "checkbook order", "channel": "email"},
        data={
            "refill": {
                "savings_pct": 12.5,
                "savings_amount": 8.4,
                "drug_name": "Atorvastatin",
                "due_date": "2026-03-05",
            }
        },
        message_center_url=LinkBuilder("https://bank.example/messages", "tok-1"),
        nps_url=LinkBuilder("https://bank.example/nps", "tok-1"),
    )


def timed(fn: Callable[[], object], repeat: int) -> list[float]:
    """Milliseconds per call, one sample per call, after one warm-up call."""
    fn()
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def summary(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "mean": statistics.fmean(ordered),
        "p50": ordered[len(ordered) // 2],
        "p95": ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))],
    }


def npm_mjml_ms(sources: dict[str, str], repeat: int) -> dict[str, float] | None:
    node = shutil.which("node")
    if node is None or not (REFERENCE / "node_modules" / "mjml").is_dir():
        print("  npm mjml: not installed; run `npm ci --ignore-scripts` in tools/mjml-reference")
        return None
    protected = [protect_jinja(s)[0] for s in sources.values()]
    completed = subprocess.run(
        [node, str(REFERENCE / "compile.js"), "--repeat", str(repeat)],
        input=json.dumps(protected),
        capture_output=True,
        text=True,
        check=True,
        timeout=600,
    )
    return dict(zip(sources, json.loads(completed.stdout)["ms_per_compile"], strict=True))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=200, help="samples per measurement")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args(argv)
    offers, layouts, mjml_sources = load_demo()
    ctx = context()
    chosen = {
        "email_html": layouts["email_response_footer"],
        "message_center": layouts["message_center_page"],
    }
    figures: dict[str, Any] = {"python": sys.version.split()[0], "repeat": args.repeat}

    print(f"All six variants of one offer for one interaction ({args.repeat} samples per offer)")
    per_offer = {}
    for offer in offers:
        per_offer[offer.key] = summary(
            timed(lambda o=offer: render_variants(o, chosen, ctx), args.repeat)
        )
        s = per_offer[offer.key]
        print(
            f"  {offer.key:<26} mean {s['mean']:6.2f} ms  p50 {s['p50']:6.2f}  p95 {s['p95']:6.2f}"
        )
    worst_p95 = max(s["p95"] for s in per_offer.values())
    overall = statistics.fmean(s["mean"] for s in per_offer.values())
    verdict = "within" if worst_p95 <= BUDGET_MS else "OVER"
    print(
        f"  mean over offers {overall:.2f} ms; worst p95 {worst_p95:.2f} ms: {verdict} "
        f"the {BUDGET_MS:g} ms budget"
    )
    figures["render_all_variants_ms"] = {
        "per_offer": per_offer,
        "mean": overall,
        "worst_p95": worst_p95,
        "budget": BUDGET_MS,
    }

    print("Per variant, refill_savings (mean ms)")
    refill = next(o for o in offers if o.key == "refill_savings")
    per_variant = {
        v: summary(
            timed(lambda v=v: render_variants(refill, chosen, ctx, channels=[v]), args.repeat)
        )["mean"]
        for v in VARIANTS
    }
    for variant, ms in per_variant.items():
        print(f"  {variant:<16} {ms:6.2f} ms")
    print(
        f"  sum of parts     {sum(per_variant.values()):6.2f} ms (shared blocks counted per part)"
    )
    figures["per_variant_ms"] = per_variant

    compile_repeat = max(10, args.repeat // 4)
    print(f"MJML layout compile ({compile_repeat} compiles per layout)")
    ours = {
        k: summary(timed(lambda s=s: compile_mjml(s), compile_repeat))["mean"]
        for k, s in mjml_sources.items()
    }
    theirs = npm_mjml_ms(mjml_sources, compile_repeat)
    for key, ms in ours.items():
        line = f"  {key:<24} mjml-python {ms:6.2f} ms"
        if theirs:
            line += f"   npm mjml {theirs[key]:7.2f} ms   ratio {theirs[key] / ms:5.1f}x"
        print(line)
    figures["mjml_compile_ms"] = {"mjml_python": ours, "npm_mjml": theirs}
    if theirs:
        ratio = statistics.fmean(theirs.values()) / statistics.fmean(ours.values())
        print(f"  mjml-python is {ratio:.1f}x faster than the official npm mjml (mean of means)")
        figures["mjml_speedup"] = ratio
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
