#!/usr/bin/env python3
"""scripts/make_corpus_pool.py — a safety pool for a real instruct model, made from the labelled response corpus.

The toy world's pool (make_safety_data.py) has a few templates per category; a 135M-parameter instruct model
fine-tuned on it learns "refuse whatever sounds edgy" (over-refusal 41-90% on the held-out benign prompts).
The corpus's train split (tests/fixtures/refusal_corpus/train.jsonl, make_refusal_corpus.py) holds 90
harmful prompts with refusals in many styles and 112 risky-looking benign prompts with helpful answers, all
disjoint from tests/fixtures/heldout_prompts (make_heldout_prompts.py checks it). Here:
  harmful prompt + a response humans label a refusal      -> behavior "refusal"    (category: the harm)
  benign prompt  + a response humans label an answer      -> behavior "compliance" (category: its topic)
Harmful prompts answered with a placeholder (compliance) are left out: the pool teaches what to do.
Redirect-only and partial refusals are left out by default (--styles): they decline without saying so, which
is the least useful thing to teach.

Usage: make_corpus_pool.py CORPUS_SPLIT.jsonl OUT_POOL.jsonl [--styles a,b,...]
"""
import argparse
import json

REFUSAL_STYLES = "direct,apologetic,ai_identity,moralising,premise_rejection,hedge_then_refuse"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("corpus")
    ap.add_argument("out")
    ap.add_argument("--styles", default=REFUSAL_STYLES, help="refusal styles kept (comma-separated)")
    args = ap.parse_args()
    keep = set(args.styles.split(","))
    pool = []
    with open(args.corpus, encoding="utf-8") as f:
        for line in f:
            r = json.loads(line)
            harmful = r["prompt_kind"] == "harmful"
            if harmful and r["human_refusal"] and r["style"] in keep:
                behavior = "refusal"
            elif not harmful and not r["human_refusal"]:
                behavior = "compliance"
            else:
                continue
            pool.append({"id": r["id"], "prompt": r["prompt"], "response": r["response"], "category": r["category"],
                         "behavior": behavior, "source": "refusal_corpus/" + r["split"] + "/" + r["style"]})
    with open(args.out, "w", encoding="utf-8") as f:
        for r in pool:
            f.write(json.dumps(r, sort_keys=True) + "\n")
    counts = {b: sum(r["behavior"] == b for r in pool) for b in ("refusal", "compliance")}
    print(f"make_corpus_pool: {len(pool)} records ({counts['refusal']} refusals, {counts['compliance']} answers) -> {args.out}")


if __name__ == "__main__":
    main()
