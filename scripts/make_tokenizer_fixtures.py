#!/usr/bin/env python3
"""scripts/make_tokenizer_fixtures.py — builds tests/fixtures/hf_tokenizer/: a synthetic corpus, five small BPE
tokenizer.json files trained with Hugging Face `tokenizers`, and the ids that package gives for every corpus string
(the golden data for safetune's tokenizer.json reader). `--check` only re-verifies the files already there."""
import argparse
import hashlib
import json
import random
import sys
from pathlib import Path

from tokenizers import AddedToken, Regex, Tokenizer, __version__ as TOKENIZERS_VERSION
from tokenizers import decoders, models, normalizers, pre_tokenizers, processors, trainers

OUT = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "hf_tokenizer"
PINNED_VERSION = "0.23.3"
CORPUS_SEED = 20240601
TRAIN_SEED = 77
CORPUS_LINES = 50_000
TRAIN_BYTES = 3_200_000
CHUNK = 100
FIRST = 200  # full ids kept for the first strings only: enough to show a mismatch, small to commit
MODES = ("plain", "with_special_tokens", "literal")

LLAMA3_PATTERN = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*"
                  r"|\s*[\r\n]+|\s+(?!\S)|\s+")
# SmolLM2's vocabulary lacks some byte-level characters; these six are the ones a public fixture script names.
SMOL_MISSING_BYTES = (0x04, 0x06, 0x13, 0x14, 0x16, 0x1D)

# ---------------------------------------------------------------------------------------------------------------
# Corpus generator. Every string comes from one category, picked with these weights (percent; CATEGORIES):
#   prose 16 (English, contractions in every letter case)   scripts 12 (Latin accents, Cyrillic, Greek, CJK incl.
#   Ext. B, kana, Hangul, Arabic, Hebrew, Devanagari, Thai)   emoji 6 (ZWJ, skin tones, flags, keycaps, tags)
#   combining 5   whitespace 8 (runs of the odd spaces in WHITESPACE)   digits 9   code 8 (punctuation runs,
#   snippets)   url 6 (URLs, emails)   special 12 (special-token text in prose and chats, partial, doubled)
#   control 4 (C0/C1, NUL, noncharacters)   mojibake 3 (U+FFFD, literal "\x80", "<0x41>")   long 1 (200-300
#   chars: one repeated char, letters, digits, CJK/kana/Thai, emoji, a URL)   edge 3 (empty, only spaces,
#   leading/trailing spaces, one character)   mixed 7 (two or three of the above glued together).
# Every letter and digit used is in Unicode 3.2 already, and every other code point is assigned or a noncharacter:
# a reader built on an older Unicode table than tokenizers' must still agree on \p{L}/\p{N}, so a mismatch points
# at the tokenizer, not at the table.
# ---------------------------------------------------------------------------------------------------------------
ENGLISH = ("the a an of to and in is was for on that with as by at from this it be are have not but or his her "
           "they we you she he one all would there their what so up out if about who get which go me when make "
           "can like time no just him know take people into year your good some could them see other than then "
           "now look only come its over think also back after use two how our work first well way even new want "
           "because any these give day most us model token tokenizer byte merge vocabulary training data text "
           "quick brown fox jumps lazy dog hello world Python Rust regex Unicode London Paris Monday").split()
CONTRACTIONS = [("I", "'m"), ("don", "'t"), ("we", "'ve"), ("it", "'s"), ("they", "'re"), ("you", "'ll"),
                ("she", "'d"), ("can", "'t"), ("won", "'t"), ("isn", "'t"), ("John", "'s"), ("we", "'d"),
                ("I", "'ll"), ("they", "'ve"), ("that", "'s"), ("who", "'re"), ("o", "'clock"), ("rock", "'n'roll")]
APOSTROPHES = ["'"] * 12 + ["\u2019", "`", "\u02bc"]

SCRIPT_WORDS = {
    "latin": "café naïve façade résumé Straße Größe über Ärger niño señor mañana açúcar coração łódź Kraków "
             "źdźbło Tiếng Việt İstanbul ışık şehir Øresund Ångström æbleskiver Þór ðæt brûlée Ñandú čeština "
             "Dvořák ğüş ĲSSEL œuvre Ŀl ǅemal".split(),
    "cyrillic": "привет мир Москва спасибо ПРИВЕТ Київ ґанок їжак Україна щука объём ёлка Ёжик Беларусь ў "
                "Србија љубав Џеп ЯНДЕКС".split(),
    "greek": "Καλημέρα κόσμε ΑΘΗΝΑ λόγος σοφία Ελλάδα ψυχή ΣΟΦΟΣ ΐ ς φιλοσοφία Ωμέγα ὁδός ᾅδης".split(),
    "cjk": "你好 世界 中文 汉字 北京 谢谢 我爱你 電腦 學習 人工智能 机器学习 𠀋 𪚲".split(),
    "japanese": "こんにちは ありがとう カタカナ ひらがな 日本語 東京 すし ラーメン コンピューター がっこう ｶﾀｶﾅ ヴァ".split(),
    "korean": "안녕하세요 감사합니다 한국어 서울 사랑해 컴퓨터 김치 가".split(),
    "arabic": "مرحبا العالم شكرا اللغة العربية كتاب السلام عليكم مُحَمَّد ﻻ".split(),
    "hebrew": "שלום עולם תודה עברית ירושלים בְּרֵאשִׁית ﬡ".split(),
    "devanagari": "नमस्ते दुनिया हिन्दी धन्यवाद भारत संस्कृत क्षत्रिय ॐ".split(),
    "thai": "สวัสดี ภาษาไทย ขอบคุณ กรุงเทพมหานคร ประเทศไทย น้ำ".split(),
}
# (first, last) code points of long-assigned letters of each script, for random "words"
SCRIPT_RANGES = {
    "latin": [(0xC0, 0xD6), (0xD8, 0xF6), (0xF8, 0x17F)], "cyrillic": [(0x410, 0x44F)],
    "greek": [(0x3B1, 0x3C9), (0x391, 0x3A1)], "cjk": [(0x4E00, 0x9FA5), (0x20000, 0x2A6D6)],
    "japanese": [(0x3041, 0x3093), (0x30A1, 0x30F6)], "korean": [(0xAC00, 0xD7A3)],
    "arabic": [(0x628, 0x63A), (0x641, 0x64A)], "hebrew": [(0x5D0, 0x5EA)],
    "devanagari": [(0x915, 0x939)], "thai": [(0xE01, 0xE2E)],
}
NO_SPACES = {"cjk", "japanese", "thai"}
EMOJI = ["😀", "😂", "🥲", "🤖", "🚀", "🔥", "✨", "❤️", "❤", "👍", "👍🏻", "👍🏽", "👍🏿", "👋🏾", "🧑‍💻", "👩‍💻",
         "👨‍👩‍👧‍👦", "👩‍❤️‍👨", "🏳️‍🌈", "🏴‍☠️", "🇺🇸", "🇯🇵", "🇩🇪", "🇫🇷", "🇧🇷", "🇮🇳", "🏴󠁧󠁢󠁳󠁣󠁴󠁿", "1️⃣",
         "#️⃣", "©️", "™", "☺", "☕", "⚽", "🐍", "🦀", "🍕", "🎉", "💯", "🙏🏼", "🤷‍♀️", "🧔🏻‍♂️", "🇺", "🏻"]
WHITESPACE = [" "] * 10 + ["\t"] * 3 + ["\n"] * 4 + ["\r\n"] * 2 + [
    "\r", "\u00a0", "\u3000", "\u2009", "\u180e", "\u200b", "\ufeff", "\u2028", "\u2029", "\u0085", "\x0b", "\x0c",
    "\u202f", "\u205f", "\u1680", "\u2000", "\u200a", "\x1c", "\x1f"]
SPECIALS = ["<|im_start|>", "<|im_end|>", "<s>", "</s>", "<unk>", "<|begin_of_text|>", "<|end_of_text|>",
            "<|endoftext|>"]
NEAR_SPECIALS = ["<|im_", "im_end|>", "<|im_end", "|>", "<|", "< s>", "<s", "s>", "</s", "<|IM_START|>",
                 "<|im_end|><|im_end|>", "<s></s>", "<<s>>", "<|<|im_start|>|>", "<|endoftext", "<UNK>",
                 "<|begin_of_text|><|begin_of_text|>", "</s></s>"]
CODE = ["def f(x): return x**2", "if (a && b) { c++; }", "x = [1, 2, 3];", "#include <stdio.h>", "```python",
        "int main(void) {\n\treturn 0;\n}", "for i in range(10):\n    print(i)", "a != b || c >= d",
        "/* comment */", '{"key": "value", "n": 42}', '<div class="x">hi</div>', "SELECT * FROM t WHERE id=1;",
        "$ ls -la | grep '.py'", "fn main() -> Result<(), E> {", "x->y = *p++;", "λx.x", "std::vector<int> v;",
        "@decorator", "// TODO: fix", "console.log(`${a}`);", "==> ", "C:\\Users\\me\\file.txt", "~/.bashrc"]
PUNCT = list("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~") + ["...", "…", "—", "–", "“", "”", "«", "»", "¿", "¡", "•",
                                                    "§", "¶", "†", "‰", "※", "。", "、", "！", "？", "،", "।"]
MOJIBAKE = ["\ufffd", "\\x80", "\\xff\\xfe", "\\u00e9", "\\n", "<0x0A>", "<0x41>", "Ã©", "â€™", "\ufffd\ufffd",
            "ï»¿", "\\0", "<0xFF>", "Ã¤Ã¶Ã¼", "\ufffdabc", "%C3%A9"]
CONTROLS = [chr(c) for c in range(0x20)] + ["\x7f"] + [chr(c) for c in range(0x80, 0xA0)] + [
    "\u0004", "\u0006", "\u0013", "\u0014", "\u0016", "\u001d", "\x00", "\x00\x00", "\uffff", "\ufffe",
    "\U0010ffff", "\ue000", "\U000f0000", "\u200d", "\u200e", "\u202e", "\u2066", "\u00ad", "\u034f"]
TLDS = ["com", "org", "net", "io", "co.uk", "de", "рф", "dev"]


class Gen:
    """One seeded stream of test strings; CATEGORIES lists the methods and their weights."""

    def __init__(self, seed):
        self.r = random.Random(seed)

    def case(self, s):
        r = self.r.random()
        if r < 0.45:
            return s
        if r < 0.6:
            return s.upper()
        if r < 0.7:
            return s.lower()
        if r < 0.8:
            return s.capitalize()
        return "".join(c.upper() if self.r.random() < 0.5 else c.lower() for c in s)

    def word(self):
        return self.r.choice(ENGLISH)

    def contraction(self):
        stem, suffix = self.r.choice(CONTRACTIONS)
        suffix = suffix.replace("'", self.r.choice(APOSTROPHES), 1)
        r = self.r.random()
        if r < 0.25:
            return self.case(stem + suffix)
        if r < 0.5:  # "it'S", "don'T": only the contraction upper-cased
            return stem + suffix.upper()
        return self.case(stem) + self.case(suffix)

    def sentence(self, n=None):
        n = n or self.r.randint(4, 10)
        words = [self.contraction() if self.r.random() < 0.2 else self.case(self.word()) for _ in range(n)]
        if self.r.random() < 0.2:
            words.insert(self.r.randrange(len(words)), self.r.choice([",", ";", " -", ":"]))
        s = " ".join(words).replace(" ,", ",").replace(" ;", ";").replace(" :", ":")
        return s[:1].upper() + s[1:] + self.r.choice([".", ".", ".", "!", "?", "", "...", "?!"])

    def prose(self):
        s = self.sentence()
        if self.r.random() < 0.5:
            s += self.r.choice([" ", "  ", "\n", " "]) + self.sentence(self.r.randint(2, 6))
        return s

    def script_word(self, script):
        if self.r.random() < 0.6:
            return self.r.choice(SCRIPT_WORDS[script])
        lo, hi = self.r.choice(SCRIPT_RANGES[script])
        return "".join(chr(self.r.randint(lo, hi)) for _ in range(self.r.randint(1, 7)))

    def scripts(self):
        script = self.r.choice(list(SCRIPT_WORDS))
        words = [self.script_word(script) for _ in range(self.r.randint(2, 5))]
        sep = "" if script in NO_SPACES and self.r.random() < 0.6 else " "
        s = sep.join(words)
        if self.r.random() < 0.3:
            s = self.r.choice([f"{self.word()} {s}", f"{s}, {self.word()}", f"({s})", f"{s}。", f"«{s}»"])
        return s

    def emoji(self):
        parts = []
        for _ in range(self.r.randint(2, 6)):
            r = self.r.random()
            if r < 0.55:
                parts.append(self.r.choice(EMOJI) * (1 if self.r.random() < 0.85 else self.r.randint(2, 4)))
            elif r < 0.7:
                parts.append(chr(self.r.choice([self.r.randint(0x1F300, 0x1F5FF), self.r.randint(0x1F600, 0x1F64F)])))
            else:
                parts.append(self.case(self.word()))
        return self.r.choice(["", " "]).join(parts)

    def combining(self):
        out = []
        for _ in range(self.r.randint(2, 4)):
            r = self.r.random()
            if r < 0.3:
                out.append(self.r.choice(["e\u0301", "a\u030a", "n\u0303", "o\u0308\u0304", "caf\u00e9", "cafe\u0301",
                                          "\u0301abc", "A\u0323\u0302", "i\u0307", "\u1100\u1161\u11a8", "x\u20d7"]))
            else:
                w = list(self.word())
                for _ in range(self.r.randint(1, 2)):
                    i = self.r.randint(1, len(w))
                    marks = "".join(chr(self.r.randint(0x300, 0x36F)) for _ in range(self.r.choice([1, 1, 2, 3, 5])))
                    w.insert(i, marks)
                out.append("".join(w))
        return " ".join(out)

    def ws_run(self, n=None):
        return "".join(self.r.choice(WHITESPACE) for _ in range(n or self.r.randint(1, 6)))

    def whitespace(self):
        s = self.ws_run() if self.r.random() < 0.4 else ""
        for _ in range(self.r.randint(2, 5)):
            s += self.case(self.word()) + (self.ws_run() if self.r.random() < 0.7 else " ")
        return s if self.r.random() < 0.6 else s.rstrip(" ")

    def number(self):
        r = self.r.random()
        if r < 0.25:
            return str(self.r.randint(0, 9))
        if r < 0.5:
            return "".join(self.r.choice("0123456789") for _ in range(self.r.randint(1, 12)))
        return self.r.choice([
            "3.14159", "1,000,000", "2.5e-3", "-42", "+7", "0x1F", "1e10", "v1.2.3", "2024-06-30", "12:30:59",
            "x²", "10³", "½", "¾", "⅓", "٠١٢٣٤٥٦٧٨٩", "١٢٣", "०१२३", "１２３", "Ⅻ", "①②", "¹²³", "₂", "٣.١٤",
            "(555) 123-4567", "100%", "$9.99", "€1.234,56", "#1", "3rd", "abc123def", "A1B2C3", "2x", "x86_64",
            "IPv4 192.168.0.1", "99 bottles", "007", "1/2", "1.0.0-rc1", "٫", "𝟘𝟙𝟚"])

    def digits(self):
        parts = [self.number() for _ in range(self.r.randint(1, 4))]
        if self.r.random() < 0.5:
            parts.insert(self.r.randrange(len(parts) + 1), self.case(self.word()))
        return self.r.choice([" ", " ", "", ", ", "-"]).join(parts)

    def code(self):
        if self.r.random() < 0.35:
            return "".join(self.r.choice(PUNCT) for _ in range(self.r.randint(1, 12))) + self.r.choice(
                ["", " " + self.word(), "\n"])
        s = self.r.choice(CODE)
        if self.r.random() < 0.5:
            s = self.r.choice(["    ", "\t", "\n", "  ", ""]) + s + self.r.choice(["\n", "\n\n", " ", ""]) + \
                self.r.choice(CODE)
        return s

    def url(self):
        host = "".join(self.r.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(self.r.randint(3, 10)))
        tld = self.r.choice(TLDS)
        r = self.r.random()
        if r < 0.4:
            path = "/".join(self.word() for _ in range(self.r.randint(0, 3)))
            return f"{self.r.choice(['https', 'http', 'ftp'])}://{self.r.choice(['', 'www.'])}{host}.{tld}/{path}" + \
                self.r.choice(["", "?q=1&r=two", "#frag", ".html", "?id=123&lang=en-US", "/"])
        if r < 0.8:
            user = self.r.choice([self.word(), f"{self.word()}.{self.word()}", f"{self.word()}+tag", "j.doe_99"])
            return self.r.choice(["", "mailto:", "Email me at ", "<"]) + f"{user}@{host}.{tld}" + \
                self.r.choice(["", ">", ".", " thanks"])
        return f"See {self.r.choice(['www.', ''])}{host}.{tld}{self.r.choice(['', ':8080'])} or @{self.word()}_{host}"

    def special(self):
        sp = self.r.choice(SPECIALS if self.r.random() < 0.7 else NEAR_SPECIALS)
        r = self.r.random()
        if r < 0.25:
            return (f"<|im_start|>{self.r.choice(['user', 'assistant', 'system'])}\n{self.sentence(4)}<|im_end|>"
                    + self.r.choice(["\n", "", "\n<|im_start|>assistant\n"]))
        if r < 0.5:
            w1, w2 = self.word(), self.word()
            return self.r.choice([f"{w1}{sp}{w2}", f"{w1} {sp} {w2}", f"{w1}  {sp}{w2}", f"{sp}{w1}", f"{w1}{sp}",
                                  f"{sp} {w1}", f" {sp}", f"{sp}", f"{sp}{sp}", f"{w1}\n{sp}\n{w2}"])
        s = self.sentence(self.r.randint(3, 6)).split(" ")
        s.insert(self.r.randint(0, len(s)), sp)
        return self.r.choice([" ", ""]).join(s)

    def control(self):
        w = list(self.sentence(self.r.randint(2, 5)))
        for _ in range(self.r.randint(1, 3)):
            w.insert(self.r.randint(0, len(w)), self.r.choice(CONTROLS))
        return "".join(w)

    def mojibake(self):
        s = self.sentence(self.r.randint(2, 5)).split(" ")
        for _ in range(self.r.randint(1, 2)):
            s.insert(self.r.randint(0, len(s)), self.r.choice(MOJIBAKE))
        return self.r.choice([" ", ""]).join(s)

    def long(self):
        n = self.r.randint(200, 300)
        r = self.r.random()
        if r < 0.2:
            return self.r.choice("aZ-=0 ") * n
        if r < 0.4:
            return "".join(self.r.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(n))
        if r < 0.55:
            return "".join(self.r.choice("0123456789") for _ in range(n))
        if r < 0.7:
            script = self.r.choice(sorted(NO_SPACES))
            return "".join(self.script_word(script) for _ in range(n))[:n]
        if r < 0.8:
            return "".join(self.r.choice(EMOJI[:20]) for _ in range(n // 3))
        if r < 0.9:
            return ("supercalifragilisticexpialidocious" * 12)[:n]
        return "https://example.com/" + "/".join(self.word() for _ in range(n // 5))

    def edge(self):
        return self.r.choice([
            "", "", " ", "  ", " " * self.r.randint(3, 40), "\t", "\n", "\r\n", "\n\n", " \n ", "\u00a0", "\u3000",
            " " + self.sentence(), self.sentence() + " ", "  " + self.word() + "  ", self.word(), "a", "I",
            self.r.choice(PUNCT), "'", "'s", "'S", "\u200b", "\ufeff" + self.word(), " " * 5 + "x" + " " * 5,
            "\x00", "0"])

    def mixed(self):
        cats = [c for c in CATEGORIES if c not in ("mixed", "long", "edge")]
        parts = [getattr(self, self.r.choice(cats))() for _ in range(self.r.choice([2, 2, 2, 3]))]
        return self.r.choice([" ", "", "\n", " | "]).join(parts)

    def next(self):
        return getattr(self, self.r.choices(CAT_NAMES, CAT_WEIGHTS)[0])()


CATEGORIES = {"prose": 16, "scripts": 12, "emoji": 6, "combining": 5, "whitespace": 8, "digits": 9, "code": 8,
              "url": 6, "special": 12, "control": 4, "mojibake": 3, "long": 1, "edge": 3, "mixed": 7}
CAT_NAMES, CAT_WEIGHTS = list(CATEGORIES), list(CATEGORIES.values())


def corpus_strings():
    g = Gen(CORPUS_SEED)
    return [g.next() for _ in range(CORPUS_LINES)]


def training_text():
    g, out, size = Gen(TRAIN_SEED), [], 0
    while size < TRAIN_BYTES:
        s = g.next()
        out.append(s)
        size += len(s.encode("utf-8")) + 1
    return out


# ---------------------------------------------------------------------------------------------------------------
# Tokenizers. Each is trained without special tokens, edited as JSON where a real model's layout cannot come out of
# the trainer, saved with Tokenizer.save and reloaded from that file, so the expectations come from the file itself.
# Special tokens are placed by hand, not through BpeTrainer(special_tokens=...): the trainer counts each special
# token it finds in the text as a word and learns merges that spell it out ("<|endof" + "text|>" -> "<|endoftext|>",
# "<" + "s>" -> "<s>"), which no real model has and which would let literal text turn into a special id.
# ---------------------------------------------------------------------------------------------------------------
def special(content):
    return AddedToken(content, special=True, normalized=False)


def train(tok, text, **trainer_args):
    tok.train_from_iterator(text, trainers.BpeTrainer(show_progress=False, **trainer_args))
    return json.loads(tok.to_str())


def drop_tokens(j, bad):
    """Removes from tokenizer JSON j the vocab entries where bad(token), every merge (and merged token) that needs
    one, and renumbers the rest in their old order, so the ids stay contiguous."""
    model = j["model"]
    produced = {a + b for a, b in model["merges"]}
    alive = {t for t in model["vocab"] if t not in produced and not bad(t)}  # the alphabet
    merges = []
    for a, b in model["merges"]:  # in rank order, so both parts of a merge are settled before it
        if a in alive and b in alive and not bad(a + b):
            merges.append([a, b])
            alive.add(a + b)
    order = sorted((t for t in model["vocab"] if t in alive), key=model["vocab"].get)
    model["vocab"], model["merges"] = {t: i for i, t in enumerate(order)}, merges


def put_first(j, specials, then=()):
    """Gives the special tokens ids 0.., then the tokens `then`, then the learned vocabulary in its order."""
    drop_tokens(j, (set(specials) | set(then)).__contains__)
    model = j["model"]
    order = list(specials) + list(then) + sorted(model["vocab"], key=model["vocab"].get)
    model["vocab"] = {t: i for i, t in enumerate(order)}
    j["added_tokens"] = [{"id": i, "content": s, "single_word": False, "lstrip": False, "rstrip": False,
                          "normalized": False, "special": True} for i, s in enumerate(specials)]


def from_json(j):
    return Tokenizer.from_str(json.dumps(j, ensure_ascii=False))


def byte_level(pre_tokenizer, text, vocab_size=2200):
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizer
    return tok, train(tok, text, vocab_size=vocab_size, initial_alphabet=pre_tokenizers.ByteLevel.alphabet())


def build_llama3(text):
    pre = pre_tokenizers.Sequence([pre_tokenizers.Split(Regex(LLAMA3_PATTERN), behavior="isolated", invert=False),
                                   pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)])
    tok, j = byte_level(pre, text)
    # Llama 3's vocabulary comes from tiktoken: some tokens are no merge's product, and ignore_merges is what makes
    # a whole pre-token that is such a token one id. A trained vocabulary has none, so add the 64 most frequent
    # pre-tokens that are not tokens, without merges; otherwise ignore_merges would change no id here.
    counts = {}
    for s in text:
        for piece, _ in pre.pre_tokenize_str(s):
            if piece not in j["model"]["vocab"]:
                counts[piece] = counts.get(piece, 0) + 1
    for piece in sorted(counts, key=lambda p: (-counts[p], p))[:64]:
        j["model"]["vocab"][piece] = len(j["model"]["vocab"])
    j["model"]["ignore_merges"] = True
    tok = from_json(j)
    tok.decoder = decoders.ByteLevel()
    # Like Llama 3: the special tokens come after the whole vocabulary.
    tok.add_special_tokens([special(s) for s in ("<|begin_of_text|>", "<|end_of_text|>", "<|im_start|>", "<|im_end|>")])
    bot = tok.token_to_id("<|begin_of_text|>")
    tok.post_processor = processors.Sequence([
        processors.ByteLevel(trim_offsets=False),
        processors.TemplateProcessing(single="<|begin_of_text|> $A", pair="<|begin_of_text|> $A <|begin_of_text|>:1 $B:1",
                                      special_tokens=[("<|begin_of_text|>", bot)])])
    return tok


QWEN2_PATTERN = LLAMA3_PATTERN.replace(r"\p{N}{1,3}", r"\p{N}")


def build_qwen2(text):
    # Qwen2 / Qwen2.5: NFC first, then Llama 3's split with single digits, ByteLevel; specials after the vocab.
    pre = pre_tokenizers.Sequence([pre_tokenizers.Split(Regex(QWEN2_PATTERN), behavior="isolated", invert=False),
                                   pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)])
    _, j = byte_level(pre, text)
    tok = from_json(j)
    tok.normalizer = normalizers.NFC()
    tok.add_special_tokens([special(s) for s in ("<|endoftext|>", "<|im_start|>", "<|im_end|>")])
    return byte_level_tail(tok)


def byte_level_tail(tok):
    tok.decoder = decoders.ByteLevel()
    tok.post_processor = processors.ByteLevel(trim_offsets=False)
    return tok


def build_gpt2(text):
    _, j = byte_level(pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True), text)
    put_first(j, ["<|endoftext|>"])
    return byte_level_tail(from_json(j))


def byte_char(b):
    """GPT-2's bytes_to_unicode: the printable character ByteLevel uses for byte b."""
    printable = list(range(0x21, 0x7F)) + list(range(0xA1, 0xAD)) + list(range(0xAE, 0x100))
    if b in printable:
        return chr(b)
    return chr(0x100 + [x for x in range(256) if x not in printable].index(b))


def build_digits(text):
    pre = pre_tokenizers.Sequence([pre_tokenizers.Digits(individual_digits=True),
                                   pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)])
    _, j = byte_level(pre, text)
    # SmolLM2 ships without some byte characters and has neither unk nor byte fallback, so those bytes vanish.
    missing = {byte_char(b) for b in SMOL_MISSING_BYTES}
    before = len(j["model"]["vocab"])
    drop_tokens(j, lambda t: bool(missing & set(t)))
    assert len(j["model"]["vocab"]) <= before - len(missing)
    put_first(j, ["<|endoftext|>", "<|im_start|>", "<|im_end|>"])
    return byte_level_tail(from_json(j))


def train_sentencepiece_style(text):
    """A Llama 2 / Mistral-shaped vocabulary: <unk> <s> </s>, <0x00>..<0xFF>, then the learned pieces."""
    tok = Tokenizer(models.BPE())
    # Training only: split on spaces like sentencepiece does, so no piece spans a word boundary.
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always", split=True)
    # A small alphabet leaves many characters to the byte fallback. The trainer breaks ties in character counts
    # in hash-map order, so pick the 150 here (count, then code point) and pass them as the initial alphabet.
    counts = {"▁": 0}
    for s in text:
        counts["▁"] += 1
        for c in s.replace(" ", "▁"):
            counts[c] = counts.get(c, 0) + 1
    alphabet = sorted(counts, key=lambda c: (-counts[c], c))[:150]
    j = train(tok, text, vocab_size=1900, limit_alphabet=150, initial_alphabet=alphabet)
    # put_first also drops learned pieces that spell a byte token: the corpus has literal "<0x41>" text.
    put_first(j, ["<unk>", "<s>", "</s>"], [f"<0x{b:02X}>" for b in range(256)])
    j["model"].update(unk_token="<unk>", byte_fallback=True, fuse_unk=True)
    j["pre_tokenizer"] = None
    return j


def llama2_tail(tok):
    # transformers' LlamaConverter gives legacy and non-legacy conversions this same decoder (the Strip whenever
    # add_prefix_space, which defaults to true); it never uses a Metaspace decoder for Llama.
    tok.decoder = decoders.Sequence([decoders.Replace("▁", " "), decoders.ByteFallback(), decoders.Fuse(),
                                     decoders.Strip(" ", 1, 0)])
    tok.post_processor = processors.TemplateProcessing(single="<s> $A", pair="<s> $A <s>:1 $B:1",
                                                       special_tokens=[("<s>", 1)])
    return tok


def build_llama2_legacy(spm):
    tok = from_json(spm)
    tok.normalizer = normalizers.Sequence([normalizers.Prepend("▁"), normalizers.Replace(" ", "▁")])
    return llama2_tail(tok)


def build_llama2_metaspace(spm):
    tok = from_json(spm)
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="first", split=False)
    return llama2_tail(tok)


# ---------------------------------------------------------------------------------------------------------------
# Expectations
# ---------------------------------------------------------------------------------------------------------------
def encode_all(tok, texts, mode):
    tok.encode_special_tokens = mode == "literal"
    try:
        return [tok.encode(t, add_special_tokens=mode == "with_special_tokens").ids for t in texts]
    finally:
        tok.encode_special_tokens = False


def ids_line(ids):
    return ",".join(str(i) for i in ids) + "\n"


def chunk_hashes(all_ids):
    return [hashlib.sha256("".join(ids_line(ids) for ids in all_ids[k:k + CHUNK]).encode("utf-8")).hexdigest()
            for k in range(0, len(all_ids), CHUNK)]


def expectations(tok, texts, corpus_sha):
    modes = {}
    for mode in MODES:
        ids = encode_all(tok, texts, mode)
        modes[mode] = {"chunk_sha256": chunk_hashes(ids), "first_ids": ids[:FIRST]}
    decoded = [tok.decode(ids, skip_special_tokens=False) for ids in modes["plain"]["first_ids"]]
    return {"tokenizers_version": TOKENIZERS_VERSION, "corpus_sha256": corpus_sha, "chunk_size": CHUNK,
            "modes": modes, "decode": decoded}


def dump_expected(e):
    """JSON with one id list / hash / string per line: small, yet a mismatch is easy to find and diff."""
    def block(items, indent):
        pad = " " * indent
        return "[\n" + ",\n".join(pad + json.dumps(x, separators=(",", ":")) for x in items) + "\n" + pad[:-1] + "]"
    modes = ",\n".join(f'  {json.dumps(m)}: {{\n   "chunk_sha256": {block(v["chunk_sha256"], 4)},\n'
                       f'   "first_ids": {block(v["first_ids"], 4)}\n  }}' for m, v in e["modes"].items())
    return (f'{{\n "tokenizers_version": {json.dumps(e["tokenizers_version"])},\n'
            f' "corpus_sha256": {json.dumps(e["corpus_sha256"])},\n "chunk_size": {e["chunk_size"]},\n'
            f' "modes": {{\n{modes}\n }},\n "decode": {block(e["decode"], 2)}\n}}\n')


BUILDERS = ["byte_level_llama3", "byte_level_gpt2", "digits_byte_level", "byte_fallback_llama2", "metaspace_llama2", "nfc_qwen2"]


def generate():
    texts = corpus_strings()
    corpus = "".join(json.dumps(s, ensure_ascii=False) + "\n" for s in texts).encode("utf-8")
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "corpus.jsonl").write_bytes(corpus)
    corpus_sha = hashlib.sha256(corpus).hexdigest()
    train_text = training_text()
    spm = train_sentencepiece_style(train_text)
    built = {"byte_level_llama3": lambda: build_llama3(train_text), "byte_level_gpt2": lambda: build_gpt2(train_text),
             "digits_byte_level": lambda: build_digits(train_text),
             "byte_fallback_llama2": lambda: build_llama2_legacy(spm),
             "metaspace_llama2": lambda: build_llama2_metaspace(spm), "nfc_qwen2": lambda: build_qwen2(train_text)}
    for name in BUILDERS:
        d = OUT / name
        d.mkdir(exist_ok=True)
        built[name]().save(str(d / "tokenizer.json"), pretty=False)
        tok = Tokenizer.from_file(str(d / "tokenizer.json"))
        (d / "expected.json").write_text(dump_expected(expectations(tok, texts, corpus_sha)), encoding="utf-8")
        print(f"make_tokenizer_fixtures: {name}: vocab {tok.get_vocab_size()}")


def check():
    """Reloads every tokenizer.json, re-encodes the corpus (batched, a different code path from generate) and
    compares with expected.json; prints the sizes and a few statistics."""
    corpus = (OUT / "corpus.jsonl").read_bytes()
    texts = [json.loads(line) for line in corpus.decode("utf-8").split("\n")[:-1]]  # not splitlines: U+2028 is text
    ok = len(texts) >= CORPUS_LINES
    print(f"corpus.jsonl: {len(texts)} strings, {len(corpus)} bytes, mean {sum(map(len, texts)) / len(texts):.1f} "
          f"code points, {sum(len(t.encode()) for t in texts) / len(texts):.1f} UTF-8 bytes")
    total = len(corpus)
    for name in BUILDERS:
        d = OUT / name
        exp = json.loads((d / "expected.json").read_text(encoding="utf-8"))
        tok = Tokenizer.from_file(str(d / "tokenizer.json"))
        got = {}
        for mode in MODES:
            tok.encode_special_tokens = mode == "literal"
            got[mode] = [e.ids for e in tok.encode_batch(texts, add_special_tokens=mode == "with_special_tokens")]
            tok.encode_special_tokens = False
            if chunk_hashes(got[mode]) != exp["modes"][mode]["chunk_sha256"] or \
                    got[mode][:FIRST] != exp["modes"][mode]["first_ids"]:
                print(f"  MISMATCH {name} {mode}")
                ok = False
        decoded = [tok.decode(ids, skip_special_tokens=False) for ids in got["plain"][:FIRST]]
        if decoded != exp["decode"] or exp["corpus_sha256"] != hashlib.sha256(corpus).hexdigest():
            print(f"  MISMATCH {name} decode or corpus_sha256")
            ok = False
        sizes = {f: (d / f).stat().st_size for f in ("tokenizer.json", "expected.json")}
        total += sum(sizes.values())
        differ = sum(a != b for a, b in zip(got["plain"], got["literal"]))
        line = (f"{name}: vocab {tok.get_vocab_size()}, tokenizer.json {sizes['tokenizer.json']} B, expected.json "
                f"{sizes['expected.json']} B; plain != literal for {differ} strings; plain != with_special_tokens for "
                f"{sum(a != b for a, b in zip(got['plain'], got['with_special_tokens']))}")
        if name == "byte_level_llama3":
            j = json.loads((d / "tokenizer.json").read_text(encoding="utf-8"))
            j["model"]["ignore_merges"] = False
            off = [e.ids for e in from_json(j).encode_batch(texts, add_special_tokens=False)]
            line += f"; ignore_merges changes {sum(a != b for a, b in zip(off, got['plain']))} strings"
        if name.endswith("llama2"):
            line += (f"; byte fallback in {sum(any(3 <= i < 259 for i in ids) for ids in got['plain'])} strings, "
                     f"<unk> in {sum(0 in ids for ids in got['literal'])} in mode literal")
        if name == "digits_byte_level":
            vocab = tok.get_vocab()
            missing = [b for b in range(256) if byte_char(b) not in vocab]
            lost = [i for i, t in enumerate(texts) if any(b in missing for b in t.encode("utf-8"))]
            drops = sum(tok.decode(got["literal"][i], skip_special_tokens=False) != texts[i] for i in lost)
            line += (f"; bytes without a token: {', '.join(f'0x{b:02X}' for b in missing)}; {len(lost)} strings "
                     f"contain one ({drops} of them decode differently)")
        print(line)
    readme = OUT / "README.md"
    total += readme.stat().st_size if readme.exists() else 0
    print(f"total {total} B; {'OK' if ok else 'FAILED'}")
    return ok


def real(folder, name):
    """The expected ids of a real model's tokenizer.json (not committed: fetched by a script, e.g.
    scripts/get_smollm2) on the committed corpus, into tests/fixtures/hf_tokenizer_real/NAME/expected.json."""
    corpus = (OUT / "corpus.jsonl").read_bytes()
    texts = [json.loads(line) for line in corpus.decode("utf-8").split("\n")[:-1]]
    tok = Tokenizer.from_file(str(Path(folder) / "tokenizer.json"))
    out = OUT.parent / "hf_tokenizer_real" / name
    out.mkdir(parents=True, exist_ok=True)
    (out / "expected.json").write_text(dump_expected(expectations(tok, texts, hashlib.sha256(corpus).hexdigest())),
                                       encoding="utf-8")
    print(f"make_tokenizer_fixtures: {out / 'expected.json'} (vocab {tok.get_vocab_size()})")


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--check", action="store_true", help="only verify the fixtures already written")
    ap.add_argument("--real", nargs=2, metavar=("FOLDER", "NAME"),
                    help="write the expected ids of a real model folder's tokenizer.json on the corpus")
    args = ap.parse_args()
    if TOKENIZERS_VERSION != PINNED_VERSION:
        sys.exit(f"make_tokenizer_fixtures: needs tokenizers=={PINNED_VERSION}, found {TOKENIZERS_VERSION}")
    if args.real:
        return real(*args.real)
    if not args.check:
        generate()
    sys.exit(0 if check() else 1)


if __name__ == "__main__":
    main()
