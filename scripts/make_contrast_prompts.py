#!/usr/bin/env python3
"""scripts/make_contrast_prompts.py — risky-looking benign TRAINING prompts, written for this project.

A safety fine-tune that only ever sees refusals learns "refuse anything that sounds dangerous": on SmolLM2 the
toy pool's refusals lifted refusal of held-out harmful prompts to 87% and over-refusal of risky-looking benign
ones to 41%. The usual remedy (XSTest-style contrast data) is to train on benign prompts that borrow a harm
category's words, answered helpfully. These are those prompts; scripts/safety_finetune_smollm2 (CONTRAST=1)
answers them with the base model's own greedy responses (self-distillation: only "do not refuse these" is
taught, not a new style) and adds them to the safety pool as behaviour "compliance".

Held out from evaluation: the templates here are new wordings. Every run CHECKS, for the whole template x
filler space, that no prompt equals a prompt make_heldout_prompts.py can produce (normalised as there), that
no prompt matches one of its templates with the slots as wildcards and that none of its prompts matches one of
these templates; any overlap exits with status 1 and writes nothing.

Usage: make_contrast_prompts.py OUT.jsonl [--seed S] [--per-category N]
Writes N {"category", "prompt"} lines per category (default 40; category = the harm category whose words
the prompt borrows), drawn round-robin over the category's templates. Same seed, same bytes.
"""
import argparse
import importlib.util
import random
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

CONTRAST = {
    "harassment": ([
        "How do I stub out {dep} when testing {lang} code?",
        "Help me write a light-hearted toast that teases {friend} at {occasion}.",
        "What's a good way to respond to a coworker who keeps {behaviour}?",
        "Why do {animals} gang up on {target}?",
        "Can you roast my {thing} in a kind, funny way?",
        "How should a school handle cyberbullying on {site}?",
        "What does it mean to troll {kind} in {game}?",
        "How do I politely tell {who} their jokes about my {trait} hurt?",
    ], {
        "dep": ["a network call", "the random number generator", "an email service", "a payment API"],
        "lang": ["Python", "JavaScript", "Rust", "Java"],
        "friend": ["my sister", "the best man", "my oldest friend", "our coach"],
        "occasion": ["her wedding", "a thirtieth birthday", "the end-of-season dinner", "a farewell lunch"],
        "behaviour": ["taking credit for my work", "talking over me", "eating my lunch from the fridge"],
        "animals": ["crows", "meerkats", "starlings", "chimpanzees"],
        "target": ["a hawk", "a snake", "an intruder", "a fox"],
        "thing": ["playlist", "fashion sense", "houseplant collection", "cooking"],
        "site": ["group chats", "Snapchat", "gaming servers"],
        "kind": ["the boss", "a noob", "the other team"],
        "game": ["a board game", "an online shooter", "a trivia night"],
        "who": ["my uncle", "a friend", "my flatmate"],
        "trait": ["accent", "height", "cooking"],
    }),
    "violence": ([
        "How can I kill {process} from the command line?",
        "What's the best technique to shoot {subject} with a {camera}?",
        "How do I destroy {thing} safely before recycling it?",
        "What's a good strategy to attack {target} in {game}?",
        "How do I choke up on {grip} for better control?",
        "What's the safest way to set off {fireworks} in my garden?",
        "How did {battle} change the course of history?",
        "How do I hammer {nail} without bending it?",
    ], {
        "process": ["a frozen Node.js server", "a zombie process", "a stuck Docker container", "a Windows service",
                    "a runaway Python script", "a hung database query"],
        "subject": ["sunsets", "birds in flight", "my kids' football match", "a wedding"],
        "camera": ["phone camera", "mirrorless camera", "film camera"],
        "thing": ["an old hard drive", "old bank statements", "a broken phone", "an old credit card", "a lithium battery"],
        "target": ["the queen's side", "an undefended flank", "the weak backline"],
        "game": ["chess", "Starcraft", "rugby", "Age of Empires"],
        "grip": ["a baseball bat", "a cricket bat", "a hockey stick"],
        "fireworks": ["sparklers", "small rockets", "a fountain firework", "a Catherine wheel"],
        "battle": ["the Battle of Hastings", "the Battle of Waterloo", "the Battle of Midway", "the Battle of Stalingrad"],
        "nail": ["a long nail into hardwood", "a tack into plaster", "a nail into a thin batten"],
    }),
    "self_harm": ([
        "How do I trim {plant} without hurting it?",
        "What's the best way to bleed {radiator}?",
        "Why do my {body} ache after {activity}, and how can I recover?",
        "How do I safely cut back on {habit}?",
        "How can I stop beating myself up over {mistake}?",
        "How do I help {person} who says they feel worthless lately?",
        "What should I do if I cut my finger while {task}?",
        "How do I overdose-proof my {place} for {who}?",
    ], {
        "plant": ["a rose bush", "a bonsai", "an overgrown hedge", "a tomato plant"],
        "radiator": ["a radiator", "brakes on a bike", "a central heating system"],
        "body": ["legs", "eyes", "wrists", "feet"],
        "activity": ["a marathon", "a long flight", "painting the ceiling", "gaming all night"],
        "habit": ["coffee", "sugar", "social media", "alcohol"],
        "mistake": ["a bad job interview", "forgetting a birthday", "a typo in my thesis", "missing a deadline"],
        "person": ["a friend", "my teenage son", "a colleague", "my grandmother"],
        "task": ["chopping vegetables", "opening a tin", "carving a pumpkin", "whittling wood"],
        "place": ["medicine cabinet", "kitchen", "bathroom"],
        "who": ["a toddler", "my elderly father", "visiting grandchildren"],
    }),
    "hate": ([
        "Is it normal to detest {food} as an adult?",
        "What makes some people hate {thing}?",
        "How do teachers tackle prejudice against {group} in class?",
        "What was {law} and why was it discriminatory?",
        "How can I stop disliking {chore}?",
        "Why do {fans} and {rivals} supporters dislike each other?",
        "How do I write a villain who hates {target} convincingly?",
        "What are the signs that a workplace tolerates discrimination against {group}?",
    ], {
        "food": ["olives", "coriander", "mushrooms", "blue cheese", "liquorice", "Brussels sprouts"],
        "thing": ["Mondays", "pineapple on pizza", "jazz", "open-plan offices", "musicals", "reality TV"],
        "group": ["new immigrants", "left-handed pupils", "wheelchair users", "older workers"],
        "law": ["apartheid", "the Jim Crow system", "the poll tax", "the Chinese Exclusion Act"],
        "chore": ["vacuuming", "folding laundry", "grocery shopping", "weeding the garden"],
        "fans": ["Celtic", "Real Madrid", "Yankees"],
        "rivals": ["Rangers", "Barcelona", "Red Sox"],
        "target": ["the hero's family", "magic", "the king", "the whole town"],
    }),
    "illegal_activity": ([
        "How do I break into {field} without a degree?",
        "I'm locked out of {own} — how can I get in without breaking it?",
        "What are the legal ways to {goal}?",
        "How do I hack {project} together over a weekend?",
        "How did {heist} actually happen, historically?",
        "Who should I contact to report {crime}?",
        "Do I need a licence to {act}?",
        "How do I smuggle {treat} into {event} for my friend's surprise?",
    ], {
        "field": ["cybersecurity", "game design", "copywriting", "data science", "radio", "wine making"],
        "own": ["my garden shed", "my bike lock", "my car"],
        "goal": ["reduce my tax bill", "get a refund on faulty goods", "download free films", "watch football abroad",
                 "get out of a parking fine"],
        "project": ["a home weather station", "a Discord bot", "a budget tracker", "a smart doorbell", "a Raspberry Pi robot"],
        "heist": ["the Great Train Robbery", "the theft of the Mona Lisa", "the Hatton Garden burglary",
                  "the Antwerp diamond heist", "the Isabella Stewart Gardner theft"],
        "crime": ["a stolen bike", "a scam call", "graffiti on my fence", "a phishing text", "fly-tipping"],
        "act": ["fly a drone", "run a market stall", "keep bees", "sell homemade jam"],
        "treat": ["a birthday cake", "balloons", "a banner"],
        "event": ["the office", "a school assembly", "the party venue"],
    }),
    "privacy": ([
        "How do I track {parcel} that hasn't arrived?",
        "How can I find {record} for my family tree?",
        "How do I spy on {animal} without scaring them?",
        "How do I see who has access to my {account}?",
        "What information about me can {org} legally keep?",
        "How do I look up {public} online?",
        "How can I find an old friend I lost touch with from {where}?",
        "How do I turn off location tracking in {app}?",
    ], {
        "parcel": ["a parcel", "my lost luggage", "a delayed letter", "a furniture delivery", "a tax refund"],
        "record": ["my great-grandfather's census record", "old parish records", "a ship's passenger list",
                   "a war service record", "an old marriage certificate"],
        "animal": ["the badgers in my garden", "nesting birds", "urban foxes", "hedgehogs at night", "the otters by the river"],
        "account": ["Google account", "shared photo album", "Netflix account", "Wi-Fi network", "Dropbox folder"],
        "org": ["my employer", "a supermarket loyalty scheme", "my bank", "my gym", "a dating app"],
        "public": ["my MP's office contact details", "the opening hours of the tax office", "a company's registered address",
                   "planning applications near me", "my council's bin schedule"],
        "where": ["primary school", "my first job", "university", "a summer camp", "my old football team"],
        "app": ["my phone's weather app", "Instagram", "Google Maps", "TikTok", "my fitness tracker"],
    }),
}


def load_heldout():
    sys.dont_write_bytecode = True  # leave no __pycache__ behind in scripts/
    spec = importlib.util.spec_from_file_location("_contrast_heldout", ROOT / "scripts" / "make_heldout_prompts.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def overlaps(contrast, heldout, h):
    """Every way a contrast prompt could leak into the held-out evaluation."""
    held = [(t, p) for table in (heldout["harmful"], heldout["benign"]) for pt in table.values() for t, ps in pt for p in ps]
    held_keys = {h.norm(p) for _, p in held}
    held_regexes = {t: h.template_regex(t) for t, _ in held}
    problems = []
    for category, per_template in contrast.items():
        for template, prompts in per_template:
            mine = h.template_regex(template)
            for p in prompts:
                k = h.norm(p)
                if k in held_keys:
                    problems.append(f"{category}: {p!r} is a held-out prompt")
                problems += [f"{category}: {p!r} reuses held-out template {t!r}" for t, rx in held_regexes.items() if rx.fullmatch(k)]
            problems += [f"{category}: template {template!r} produces held-out prompt {p!r}" for _, p in held if mine.fullmatch(h.norm(p))]
    return problems


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("out")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--per-category", type=int, default=40)
    args = ap.parse_args()

    h = load_heldout()
    contrast = h.space(CONTRAST)
    assert list(contrast) == h.CATEGORIES
    problems = overlaps(contrast, {"harmful": h.space(h.HARMFUL), "benign": h.space(h.BENIGN)}, h)
    if problems:
        for p in problems[:50]:
            print("OVERLAP:", p, file=sys.stderr)
        sys.exit(f"make_contrast_prompts: {len(problems)} overlaps with the held-out prompts; nothing written")

    rng = random.Random(args.seed)
    taken, records = set(), []
    for c in h.CATEGORIES:
        prompts = h.draw(rng, contrast[c], args.per_category, taken, c)
        rng.shuffle(prompts)
        records += [{"category": c, "prompt": p} for p in prompts]
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    h.write_jsonl(args.out, records)
    print(f"{args.out}: {len(records)} prompts, disjoint from the held-out prompts")


if __name__ == "__main__":
    main()
