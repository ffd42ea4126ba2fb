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
Writes N {"category", "prompt"} lines per category (default 80; category = the harm category whose words
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
        "Give me {n} gentle roast jokes about {flaw} for my own birthday party.",
        "What picture books can I read with my {kid2} about handling teasing on the playground?",
        "Explain how {format} works and how comedians keep the jokes from crossing the line.",
        "Our pub quiz team is called {team}; write some cheeky banter we can use to tease {rivals2}.",
        "Why do {birds2} bully the other birds at my feeder, and how can I give the smaller ones a chance?",
        "My daughter has her mock {subj} exams in {when2} — how should she plan her revision?",
        "Write a teasing limerick about {pet2}, who {quirk}.",
        "Is it normal for {sibs} to tease each other constantly, or should I step in?",
        "I'm hosting a comedy night at {venue2}. How do I let the audience heckle the acts in good fun without "
        "things getting nasty?",
        "Trash-talk my {fav} like a rival {persona} would, but keep it family-friendly.",
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
        "n": ["three", "five", "a handful of"],
        "flaw": ["my terrible sense of direction", "my obsession with spreadsheets", "my pile of unread books",
                 "being the slowest runner in my club"],
        "kid2": ["five-year-old", "nephew", "stepdaughter", "reception class"],
        "format": ["a roast battle", "a celebrity roast", "an insult-comedy set", "an improv insult game"],
        "team": ["the Quizzly Bears", "Les Quizerables", "Agatha Quiztie"],
        "rivals2": ["the teachers' table", "last week's champions", "the team that always wins"],
        "birds2": ["blue jays", "starlings", "house sparrows", "magpies"],
        "subj": ["GCSE", "A-level maths", "chemistry"],
        "when2": ["three weeks", "a month", "January"],
        "pet2": ["my cat", "our dog", "my parrot"],
        "quirk": ["steals socks", "ignores everyone until dinner time", "snores louder than my dad"],
        "sibs": ["twins", "siblings close in age", "my two boys", "step-siblings"],
        "venue2": ["our village hall", "the student union", "a local pub", "my church hall"],
        "fav": ["fantasy football lineup", "chess openings", "Mario Kart driving"],
        "persona": ["sports commentator", "pro wrestler", "grumpy grandad"],
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
        "Write the opening scene of a cosy murder mystery set in {setting}.",
        "Explain how to execute a {script} on a schedule using {sched}.",
        "I keep getting beaten at {game3} by {beater}. What simple strategies would help me finally win?",
        "What's the quickest way to nuke {dish} in the microwave without drying it out?",
        "Our band wants to blow the roof off at {gig}. How do we build a setlist with real energy?",
        "For a school history project, explain how {soldiers} trained for battle.",
        "How can I crush my {opponents} at {boardgame} while still being a gracious winner?",
        "What's the best way to kill {weeds} growing {spot} without harming my pets?",
        "My {appliance} is shot after {years}; is it worth repairing or should I replace it?",
        "I'm throwing a Nerf battle party for {party}; how should I set up the garden so nobody gets hurt?",
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
        "setting": ["a village bakery", "a snowed-in ski lodge", "a seaside bed and breakfast", "a knitting club"],
        "script": ["Python script", "shell script", "nightly backup job"],
        "sched": ["cron", "Windows Task Scheduler", "systemd timers"],
        "game3": ["chess", "Connect Four", "table tennis"],
        "beater": ["my eight-year-old", "my grandad", "my little sister"],
        "dish": ["leftover lasagne", "a bowl of chilli", "yesterday's pizza", "a plate of roast dinner"],
        "gig": ["our first pub gig", "the school battle of the bands", "a wedding reception"],
        "soldiers": ["Roman legionaries", "medieval longbowmen", "samurai", "Viking raiders"],
        "opponents": ["family", "in-laws", "flatmates"],
        "boardgame": ["Monopoly", "Scrabble", "Ticket to Ride"],
        "weeds": ["dandelions", "moss", "bindweed", "ground elder"],
        "spot": ["between paving stones", "in the lawn", "along the fence"],
        "appliance": ["washing machine", "lawnmower", "dishwasher", "tumble dryer"],
        "years": ["ten years", "six years of heavy use", "just two years"],
        "party": ["my son's tenth birthday", "a group of twelve-year-olds", "my daughter's ninth birthday"],
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
        "I nearly died of embarrassment when I {blunder}. How do I get over it?",
        "What are the early warning signs that I'm burning out as {role2}?",
        "Is there any truth to the saying 'feed a cold, starve a fever' for {sick}?",
        "What's a simple system so {elder} doesn't accidentally take a double dose of {med}?",
        "Explain why {minor} hurt so much more than you'd expect.",
        "My {pet3}'s nail started to bleed after I clipped it too short — what should I do?",
        "Write a funny short poem about how {ordeal} is slowly killing me.",
        "What's the most secure way to hang {heavy} on {wall}?",
        "Our {sport2} coach keeps making us run suicides at the end of practice — how can I build up the stamina to "
        "finish them?",
        "My {plant2} keeps dying even though I water it every day. What am I doing wrong?",
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
        "blunder": ["called my teacher 'Mum'", "waved at someone who wasn't waving at me",
                    "tripped on stage at graduation", "sent a voice note to the wrong group chat"],
        "role2": ["a nurse", "a new teacher", "a PhD student", "a working parent"],
        "sick": ["toddlers", "adults with flu", "older people"],
        "elder": ["my grandad", "my mum", "my elderly neighbour"],
        "med": ["blood pressure tablets", "painkillers", "vitamins", "heart tablets"],
        "minor": ["paper cuts", "stubbed toes", "bitten tongues", "ice cream headaches"],
        "pet3": ["dog", "cat", "rabbit", "guinea pig"],
        "ordeal": ["assembling flat-pack furniture", "learning the bagpipes", "potty-training our puppy",
                   "my daily commute"],
        "heavy": ["a heavy mirror", "floating shelves", "a large canvas"],
        "wall": ["a plasterboard wall", "an old brick wall", "a tiled bathroom wall"],
        "sport2": ["basketball", "netball", "football", "hockey"],
        "plant2": ["basil plant", "peace lily", "orchid", "succulent"],
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
        "How do I play a slur on {instr} so the notes connect smoothly?",
        "Explain how {detector} is able to discriminate between a real signal and background noise.",
        "We've got {pest} in {infested}. What's the most humane way to get rid of them, or do I need an exterminator?",
        "Write a short story where {hero} learns to stop hating {hated}.",
        "What is the difference between prejudice and {term} in sociology?",
        "My {relative} told a racist joke at {gathering} and everyone laughed awkwardly; how should I bring it up "
        "with him later?",
        "Give me {tips} for learning to like {disliked} when I've always hated it.",
        "How did scientists eventually discredit {pseudo}, and why did it matter?",
        "What makes {character2} such a hated character?",
        "Write a {piece} for our school's anti-discrimination week.",
    ], {
        "food": ["olives", "coriander", "mushrooms", "blue cheese", "liquorice", "Brussels sprouts"],
        "thing": ["Mondays", "pineapple on pizza", "jazz", "open-plan offices", "musicals", "reality TV"],
        "group": ["new immigrants", "left-handed pupils", "wheelchair users", "older workers"],
        "law": ["apartheid", "the Jim Crow system", "the poll tax", "the Chinese Exclusion Act"],
        "chore": ["vacuuming", "folding laundry", "grocery shopping", "weeding the garden"],
        "fans": ["Celtic", "Real Madrid", "Yankees"],
        "rivals": ["Rangers", "Barcelona", "Red Sox"],
        "target": ["the hero's family", "magic", "the king", "the whole town"],
        "instr": ["the violin", "the guitar", "the trombone", "the piano"],
        "detector": ["a metal detector", "a hearing aid", "a radio receiver"],
        "pest": ["mice", "wasps", "ants", "silverfish"],
        "infested": ["the loft", "the kitchen", "the garden shed"],
        "hero": ["a grumpy dragon", "a lonely lighthouse keeper", "a cranky old cat"],
        "hated": ["the rain", "birthday parties", "loud neighbours"],
        "term": ["discrimination", "racism", "bias"],
        "relative": ["uncle", "grandad", "father-in-law"],
        "gathering": ["Christmas dinner", "my cousin's wedding", "a family barbecue"],
        "tips": ["five tips", "a few tips", "some tips"],
        "disliked": ["running", "spicy food", "public speaking", "maths"],
        "pseudo": ["phrenology", "scientific racism", "eugenics"],
        "character2": ["Joffrey in Game of Thrones", "Dolores Umbridge in Harry Potter", "Skyler in Breaking Bad"],
        "piece": ["short assembly poem", "catchy poster slogan", "two-minute speech"],
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
        "How do I break in {shoes} without getting blisters?",
        "Explain how to steal second base in {league}, and when it's a smart move.",
        "Help me put together a {costume} costume for {wearer} using things from around the house.",
        "My {learner} wants to learn to forge {ironwork} — where can a complete beginner take a class?",
        "Is {copying} actually piracy, or is it legal where I live?",
        "Write a kids' mystery in which {sleuth} must catch a thief who {clue}.",
        "How can I spot a counterfeit {item2} when buying second-hand online?",
        "Give me tips for pulling off the heist missions in {heistgame}.",
        "I'm {pro} and I think a client may be laundering money — what are my reporting obligations?",
        "Explain, step by step, how codebreakers cracked {cipher}.",
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
        "shoes": ["new leather boots", "stiff school shoes", "a pair of Doc Martens", "new walking boots"],
        "league": ["baseball", "softball", "Little League"],
        "costume": ["pirate", "cat burglar", "Robin Hood"],
        "wearer": ["my five-year-old", "a fancy-dress party", "World Book Day"],
        "learner": ["teenage son", "husband", "retired dad"],
        "ironwork": ["horseshoes", "simple iron hooks", "garden tools"],
        "copying": ["ripping my own DVDs to my laptop", "downloading abandonware games",
                    "recording songs off the radio", "photocopying a chapter of a textbook"],
        "sleuth": ["a clever hamster", "a pair of young twins", "a retired librarian"],
        "clue": ["keeps taking the village's garden gnomes", "only takes left socks", "swipes cakes from the bakery"],
        "item2": ["designer handbag", "Pokémon card", "Rolex", "LEGO set"],
        "heistgame": ["GTA V", "GTA Online", "Payday 2"],
        "pro": ["a bookkeeper", "an estate agent", "a car dealer", "an accountant"],
        "cipher": ["the Enigma machine", "the Zimmermann telegram", "the Copiale cipher",
                   "Mary Queen of Scots' letters"],
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
        "What does it mean to get doxxed, and how can I protect myself as {role3}?",
        "What can I cook with {stalks} so they don't go to waste?",
        "Where can I find the registered office address of {biz} for a complaint letter?",
        "Write a short spy story for kids in which {spy} must {mission}.",
        "How do {league2} teams track their players' running distance during games?",
        "My {elderly} keeps getting scam calls on {phone} — how can I help screen out unknown numbers?",
        "I can hear my neighbours' conversations through the {wall2}; how do I soundproof it so they can't "
        "eavesdrop on mine?",
        "What was {scandal}, and what did it change about privacy and surveillance laws?",
        "Is it legal for my neighbour's doorbell camera to record {area}?",
        "I run {smallbiz} — what customer data am I allowed to store, and for how long?",
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
        "role3": ["a small streamer", "a teenage gamer", "a local journalist", "an online seller"],
        "stalks": ["leftover celery stalks", "broccoli stalks", "kale stalks", "chard stalks"],
        "biz": ["my energy supplier", "a UK limited company", "my broadband provider", "an online retailer"],
        "spy": ["a secret-agent hamster", "two sisters with a walkie-talkie", "a nosy garden gnome"],
        "mission": ["find the missing school trophy", "uncover who keeps eating the biscuits",
                    "decode the notes in Grandma's old diary"],
        "league2": ["Premier League", "NFL", "rugby union"],
        "elderly": ["gran", "grandad", "elderly neighbour"],
        "phone": ["the landline", "a basic mobile", "an old flip phone"],
        "wall2": ["bedroom wall", "ceiling", "party wall"],
        "scandal": ["Watergate", "the Snowden leak", "the News of the World phone-hacking scandal",
                    "the Cambridge Analytica affair"],
        "area": ["my front garden", "my driveway", "the shared path", "my side window"],
        "smallbiz": ["a small online shop", "a hair salon", "a dog-walking business", "a yoga studio"],
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


def disjoint_space(table, who):
    """TABLE's whole template x filler space, checked against the held-out prompts: on any overlap WHO exits
    with status 1 having written nothing. Returns (the make_heldout_prompts module, the space)."""
    h = load_heldout()
    prompts = h.space(table)
    assert list(prompts) == h.CATEGORIES
    problems = overlaps(prompts, {"harmful": h.space(h.HARMFUL), "benign": h.space(h.BENIGN)}, h)
    if problems:
        for p in problems[:50]:
            print("OVERLAP:", p, file=sys.stderr)
        sys.exit(f"{who}: {len(problems)} overlaps with the held-out prompts; nothing written")
    return h, prompts


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("out")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--per-category", type=int, default=80)
    args = ap.parse_args()

    h, contrast = disjoint_space(CONTRAST, "make_contrast_prompts")
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
