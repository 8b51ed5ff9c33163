"""`python -m trailguard.samples OUT_DIR [--seed N]`: write the sample CloudTrail logs."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from trailguard.samples.generate import generate


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, generate the sample set and print what was written."""
    parser = argparse.ArgumentParser(
        prog="python -m trailguard.samples",
        description="Write realistic sample CloudTrail logs (S3 delivery layout) for demos.",
    )
    parser.add_argument("out_dir", type=Path, help="folder to write AWSLogs/... into")
    parser.add_argument("--seed", type=int, default=7, help="random seed (default 7)")
    parser.add_argument(
        "--routine-events", type=int, default=3000, help="routine read events (default 3000)"
    )
    args = parser.parse_args(argv)
    if args.routine_events < 0:
        parser.error("--routine-events must be >= 0")
    try:
        result = generate(args.out_dir, seed=args.seed, routine_events=args.routine_events)
    except OSError as e:
        print(f"error: cannot write to {args.out_dir}: {e.strerror}", file=sys.stderr)
        return 2
    print(
        f"wrote {result.records} records in {len(result.log_files)} CloudTrail files under "
        f"{args.out_dir}/AWSLogs ({len(result.malicious)} from the attack story), "
        f"{len(result.digest_files)} digest file and {len(result.bad_files)} deliberately bad "
        "files (truncated gzip, not JSON, VPC flow log)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
