#!/usr/bin/env python3
"""scripts/make_task_data.py — the bundled task data, written for this project: small deterministic
instruction tasks (arithmetic, word reversal, capitalisation, repetition, list counting) that a tiny
model can learn in minutes, in all three JSONL formats safetune reads.

Usage: make_task_data.py OUT_DIR [--train N] [--validation N] [--seed S]
Writes OUT_DIR/train.jsonl and OUT_DIR/validation.jsonl.
"""
import argparse
import json
import random
from pathlib import Path

WORDS = ["garden", "river", "kitchen", "forest", "planet", "puzzle", "museum", "harbor", "bakery", "village",
         "tea", "soup", "chess", "poem", "email", "robot", "teacher", "journey", "bicycle", "notebook"]


def task(rng: random.Random):
    kind = rng.randrange(5)
    if kind == 0:
        a, b = rng.randint(0, 20), rng.randint(0, 20)
        return f"What is {a} plus {b}?", f"{a} plus {b} is {a + b}."
    if kind == 1:
        w = rng.choice(WORDS)
        return f"Reverse the word: {w}", f"The word {w} reversed is {w[::-1]}."
    if kind == 2:
        w1, w2 = rng.choice(WORDS), rng.choice(WORDS)
        return f"Capitalize: {w1} {w2}", f"{w1.capitalize()} {w2.capitalize()}"
    if kind == 3:
        w, n = rng.choice(WORDS), rng.randint(2, 4)
        return f"Repeat the word {w} {n} times.", " ".join([w] * n)
    items = rng.sample(WORDS, rng.randint(2, 5))
    return f"How many items are in this list: {', '.join(items)}?", f"There are {len(items)} items."


def record(rng: random.Random):
    prompt, answer = task(rng)
    r = rng.random()
    if r < 0.6:
        return {"prompt": prompt, "completion": answer}
    if r < 0.9:
        return {"messages": [{"role": "user", "content": prompt}, {"role": "assistant", "content": answer}]}
    return {"text": f"Question: {prompt} Answer: {answer}"}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--train", type=int, default=2000)
    ap.add_argument("--validation", type=int, default=200)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    rng = random.Random(args.seed)
    for name, n in (("train", args.train), ("validation", args.validation)):
        with open(out / f"{name}.jsonl", "w", encoding="utf-8") as f:
            for _ in range(n):
                f.write(json.dumps(record(rng)) + "\n")


if __name__ == "__main__":
    main()
