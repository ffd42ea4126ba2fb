#!/usr/bin/env python3
"""scripts/tiny_corpus.py — deterministic synthetic English-like text for training tiny tokenizers.

Written for this project: short instruction/answer sentences built from fixed word lists, no real data.
Usage: tiny_corpus.py OUT.txt [--lines N] [--seed S]
"""
import argparse
import random

SUBJECTS = ["the model", "a user", "the trainer", "my friend", "the teacher", "a student", "the robot", "our team"]
VERBS = ["writes", "reads", "explains", "summarizes", "translates", "checks", "plans", "describes"]
OBJECTS = ["a short poem", "the weather", "a recipe for soup", "the history of tea", "a travel plan",
           "the rules of chess", "a math problem", "an email to a colleague", "the meaning of a word"]
TAILS = ["today.", "in three steps.", "for beginners.", "with care.", "politely.", "in simple words.",
         "before lunch.", "again, please!", "with numbers: 1, 2, 3."]
ADJECTIVES = ["quiet", "bright", "careful", "curious", "gentle", "quick", "patient", "honest", "yellow", "wooden",
              "ancient", "modern", "tiny", "enormous", "friendly", "strange", "useful", "simple", "complex", "rainy"]
NOUNS = ["garden", "library", "kitchen", "mountain", "river", "village", "computer", "notebook", "bicycle",
         "museum", "festival", "orchestra", "harbor", "bakery", "forest", "planet", "question", "journey", "puzzle"]
QUESTIONS = ["Can you help me?", "What is the answer?", "How does it work?", "Why is the sky blue?",
             "Please list five fruits.", "I'm sorry, I can't help with that.", "Sure, here is an example."]


# Chat-template markup, so the tiny tokenizers cover every character the templates use.
MARKUP = ["[INST] {q} [/INST] {a}", "<<SYS>>\nBe brief.\n<</SYS>>\n\n{q}", "<|im_start|>user\n{q}<|im_end|>",
          "<|im_start|>assistant\n{a}<|im_end|>", "### User:\n{q}\n\n### Assistant:\n{a}"]


def lines(n: int, seed: int):
    rng = random.Random(seed)
    for _ in range(n):
        if rng.random() < 0.1:
            yield rng.choice(MARKUP).format(q=rng.choice(QUESTIONS), a=rng.choice(QUESTIONS)).replace("\n", " ")
            continue
        r = rng.random()
        if r < 0.2:
            yield rng.choice(QUESTIONS)
        elif r < 0.5:
            yield (f"Describe the {rng.choice(ADJECTIVES)} {rng.choice(NOUNS)} near the {rng.choice(ADJECTIVES)} "
                   f"{rng.choice(NOUNS)} ({rng.randint(0, 999)} meters away).")
        else:
            yield f"{rng.choice(SUBJECTS).capitalize()} {rng.choice(VERBS)} {rng.choice(OBJECTS)} {rng.choice(TAILS)}"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--lines", type=int, default=4000)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    with open(args.out, "w", encoding="utf-8") as f:
        for line in lines(args.lines, args.seed):
            f.write(line + "\n")


if __name__ == "__main__":
    main()
