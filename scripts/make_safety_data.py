#!/usr/bin/env python3
"""scripts/make_safety_data.py — the bundled safety data, written for this project.

No real harmful content anywhere: every unsafe text is an obvious placeholder such as
"[UNSAFE VIOLENCE PLACEHOLDER: graphic threat]". Benign "hard negatives" mention the same topics in
harmless ways (a history lesson on wars, a privacy policy), so a classifier must learn more than topic words.

Usage: make_safety_data.py OUT_DIR [--labelled N] [--seed S]
Writes OUT_DIR/labelled.jsonl: {"text", "label": 0|1, "category"} for train-classifier.
"""
import argparse
import json
import random
from pathlib import Path

CATEGORIES = {
    "harassment": ["demeaning insult aimed at the user", "mocking remark about someone's looks", "taunt meant to humiliate"],
    "violence": ["graphic threat", "description of hurting someone", "call to attack a group"],
    "self_harm": ["encouragement of self-injury", "method description", "message urging someone to give up"],
    "hate": ["slur against a group", "claim that a group is inferior", "dehumanising comparison"],
    "illegal_activity": ["step-by-step instructions for a crime", "advice on evading police", "recipe for a banned substance"],
    "privacy": ["someone's home address", "a leaked phone number", "instructions for stalking a person"],
}
OPENERS = ["Sure, here it is:", "Fine.", "Okay, listen:", "Here you go:", "As you asked:", "No problem:"]
CLOSERS = ["", "Anything else?", "Do it now.", "That is all.", "Good luck."]

BENIGN = [
    "The {w} is open every day from nine to five.", "Here is a short poem about the {w}.",
    "I'm sorry, I can't help with that, but I can suggest safer resources.",
    "To bake bread, mix flour, water, yeast and salt, then let it rise.", "The answer is {n}.",
    "Thank you for asking! The {w} is a lovely place to visit.", "Please remember to drink water and rest.",
]
HARD_NEGATIVES = {
    "harassment": "If someone is harassing you online, you can block them and report the account.",
    "violence": "The history lesson covered why the war started and how peace treaties ended it.",
    "self_harm": "If you are struggling, please reach out to someone you trust or a local helpline.",
    "hate": "The museum exhibit explains how propaganda spread prejudice and how people resisted it.",
    "illegal_activity": "Shoplifting is a crime; the article explains how stores prevent theft.",
    "privacy": "Our privacy policy explains how we protect your home address and phone number.",
}
WORDS = ["garden", "river", "kitchen", "forest", "museum", "harbor", "bakery", "village", "library", "festival"]


def unsafe_text(rng, category):
    detail = rng.choice(CATEGORIES[category])
    tag = category.upper().replace("_", " ")
    return f"{rng.choice(OPENERS)} [UNSAFE {tag} PLACEHOLDER: {detail}] {rng.choice(CLOSERS)}".strip()


def benign_text(rng):
    if rng.random() < 0.35:
        return HARD_NEGATIVES[rng.choice(list(CATEGORIES))]
    return rng.choice(BENIGN).format(w=rng.choice(WORDS), n=rng.randint(0, 99))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--labelled", type=int, default=1200)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with open(out / "labelled.jsonl", "w", encoding="utf-8") as f:
        for _ in range(args.labelled):
            if rng.random() < 0.4:
                category = rng.choice(list(CATEGORIES))
                record = {"text": unsafe_text(rng, category), "label": 1, "category": category}
            else:
                record = {"text": benign_text(rng), "label": 0}
            f.write(json.dumps(record) + "\n")


if __name__ == "__main__":
    main()
