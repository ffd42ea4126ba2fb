#!/usr/bin/env python3
"""scripts/check_tensorboard.py RUN_DIR — reads RUN_DIR/tensorboard with TensorBoard's own reader
(EventAccumulator, which drops what a resumed run logged after its checkpoint) and checks it against
RUN_DIR/metrics.jsonl: every number of every record is a scalar "<type>/<key>" with the same steps, once
each, and the same value in float32; evaluations that generated text have an eval/generations text.
Prints a summary; exit 1 on any difference. The test TensorBoard.ReaderSeesEveryMetricOnceAcrossAResume
runs it where the full environment has the tensorboard package."""
import json
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator


def main() -> int:
    run = Path(sys.argv[1])
    expected = defaultdict(list)
    for line in (run / "metrics.jsonl").read_text().splitlines():
        record = json.loads(line)
        for key, value in record.items():
            if key in ("step", "type", "timestamp") or isinstance(value, bool):
                continue
            values = value.items() if isinstance(value, dict) else [(None, value)]
            for sub, v in values:
                if isinstance(v, (int, float)) and not isinstance(v, bool):
                    tag = f"{record['type']}/{key}" + (f"/{sub}" if sub else "")
                    expected[tag].append((record["step"], float(np.float32(v))))
    acc = EventAccumulator(str(run / "tensorboard"), size_guidance={"scalars": 0, "tensors": 0})
    acc.Reload()
    problems = []
    # eval_category/<set>_<rate>/<category>: per-category rates TensorBoard has and metrics.jsonl does not.
    all_tags = set(acc.Tags()["scalars"])
    category_tags = {t for t in all_tags if t.startswith("eval_category/")}
    scalar_tags = all_tags - category_tags
    if scalar_tags != set(expected):
        problems.append(f"tags differ: only in TensorBoard {sorted(scalar_tags - set(expected))}, "
                        f"only in metrics.jsonl {sorted(set(expected) - scalar_tags)}")
    for tag in sorted(scalar_tags & set(expected)):
        got = [(e.step, e.value) for e in acc.Scalars(tag)]
        if got != expected[tag]:
            problems.append(f"{tag}: TensorBoard {got[:6]}... metrics.jsonl {expected[tag][:6]}...")
    texts = acc.Tags().get("tensors", [])
    generations = sorted((run / "generations").glob("step-*.jsonl")) if (run / "generations").exists() else []
    if generations and "eval/generations" not in texts:
        problems.append("no eval/generations text although the run wrote generations/")
    steps = {e.step for e in acc.Tensors("eval/generations")} if "eval/generations" in texts else set()
    eval_steps = sorted({step for step, _ in expected.get("eval/harmful_refusal_rate", [])})
    for tag in sorted(category_tags):
        if [e.step for e in acc.Scalars(tag)] != eval_steps:
            problems.append(f"{tag}: steps {[e.step for e in acc.Scalars(tag)]}, evaluations at {eval_steps}")
    if eval_steps and not category_tags:
        problems.append("no eval_category/ scalars although harmful prompts were evaluated")
    print(f"tensorboard: {len(scalar_tags)} scalar tags and {len(category_tags)} per-category ones, "
          f"{sum(len(v) for v in expected.values())} points, "
          f"generation texts at steps {sorted(steps)}; {len(problems)} problem(s)")
    for p in problems:
        print("  " + p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
