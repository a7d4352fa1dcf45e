"""`make bench`: run every benchmark, print its figures and write bench/results.md.

`python -m bench --quick` is a smoke run (small inputs, one repetition) that
writes nowhere unless --out is given; the tests run it so the benches cannot rot.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from bench import api, checkpoints, cluster, detect, fanout, kenburns, render, startup
from bench.common import Options, Report

BENCHES = {"render": render.main, "fanout": fanout.main, "checkpoints": checkpoints.main, "detect": detect.main,
           "kenburns": kenburns.main, "api": api.main, "startup": startup.main, "cluster": cluster.main}


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("--quick", action="store_true", help="smoke run: small inputs, one repetition")
    parser.add_argument("--only", action="append", choices=sorted(BENCHES), help="run only these (repeatable)")
    parser.add_argument("--skip", action="append", choices=sorted(BENCHES), default=[],
                        help="leave these out (repeatable)")
    parser.add_argument("--out", type=Path, help="results file (default bench/results.md; none for --quick or --only)")
    args = parser.parse_args()
    options, report = Options(quick=args.quick), Report()
    for name, bench in BENCHES.items():
        if (not args.only or name in args.only) and name not in args.skip:
            bench(report, options)
    # A partial or quick run never overwrites the full results.
    out = args.out or (None if args.quick or args.only or args.skip else Path(__file__).with_name("results.md"))
    if out is not None:
        out.write_text(report.markdown(options), encoding="utf-8")
        print(f"\nwrote {out}")


if __name__ == "__main__":
    main()
