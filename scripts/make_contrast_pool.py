#!/usr/bin/env python3
"""scripts/make_contrast_pool.py — a safety pool of refusals plus self-distilled contrast answers.

Reads the base model's greedy responses to make_contrast_prompts.py's risky-looking benign prompts (the
--generations file of `safetune eval`, set "benign") and a safety pool; writes a pool of the input pool's rows
with the kept behaviours (default: refusal) plus one "compliance" row per contrast prompt that the base
model answered: the response cut after its last full sentence (generation stops at max_new_tokens, and a
fine-tune must not learn to stop mid-word). Responses the eval's refusal rule flagged, and responses without
a full sentence, are dropped and counted.

Usage: make_contrast_pool.py GENERATIONS.jsonl POOL.jsonl OUT.jsonl [--keep refusal[,behaviour...]]
"""
import argparse
import json
import re
import sys

SENTENCE_END = re.compile(r"(?<![0-9])[.!?](?=\s|$)")  # "1." opens a list item; it ends no sentence


def whole_sentences(text):
    ends = [m.end() for m in SENTENCE_END.finditer(text)]
    return text[:ends[-1]].strip() if ends else ""


def read_jsonl(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("generations")
    ap.add_argument("pool")
    ap.add_argument("out")
    ap.add_argument("--keep", default="refusal", help="behaviours of POOL to keep, comma-separated")
    args = ap.parse_args()

    keep = set(args.keep.split(","))
    rows = [r for r in read_jsonl(args.pool) if r.get("behavior") in keep]
    kept_from_pool = len(rows)
    refused = unfinished = 0
    for g in read_jsonl(args.generations):
        if g.get("set") != "benign":
            continue
        if g["refusal"]:
            refused += 1
            continue
        response = whole_sentences(g["response"])
        if not response:
            unfinished += 1
            continue
        rows.append({"id": f"contrast-{g['line']:04d}", "prompt": g["prompt"], "response": response,
                     "category": g["category"], "behavior": "compliance", "source": "make_contrast_pool.py (self-distilled)"})
    if len(rows) == kept_from_pool:
        sys.exit(f"make_contrast_pool: {args.generations}: no benign responses to keep")
    with open(args.out, "w", encoding="utf-8", newline="\n") as f:
        for r in rows:
            f.write(json.dumps(r, sort_keys=True, ensure_ascii=False) + "\n")
    print(f"{args.out}: {kept_from_pool} rows of {args.pool} ({','.join(sorted(keep))}) + {len(rows) - kept_from_pool} "
          f"self-distilled answers ({refused} refusals and {unfinished} without a full sentence dropped)")


if __name__ == "__main__":
    main()
