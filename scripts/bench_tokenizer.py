"""Encode throughput, safetune `tokenize --count` against `tokenizers` on one thread (scripts/bench_tokenizer).

Both encode the same strings in the same mode: special-token text literal (tokenizers' encode_special_tokens),
no post-processor tokens. Times cover encoding only, not reading the file or loading the tokenizer.
"""
import json
import subprocess
import sys
import time
from pathlib import Path

from tokenizers import Tokenizer, __version__ as tokenizers_version

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures" / "hf_tokenizer"
OUT = ROOT / "runs" / "bench" / "tokenizer"
REAL_SMOLLM2 = ROOT / "downloads" / "SmolLM2-135M-Instruct"
# safetune opens a folder only with BOS and EOS named; any two tokens of each vocabulary do for encoding.
SPECIALS = {"byte_level_llama3": ("<|begin_of_text|>", "<|end_of_text|>"), "byte_level_gpt2": ("<|endoftext|>", "<|endoftext|>"),
            "digits_byte_level": ("<|im_start|>", "<|im_end|>"), "byte_fallback_llama2": ("<s>", "</s>"),
            "metaspace_llama2": ("<s>", "</s>"), "nfc_qwen2": ("<|im_start|>", "<|im_end|>")}


def python_rates(path, texts):
    tok = Tokenizer.from_file(str(path))
    tok.encode_special_tokens = True
    start = time.perf_counter()
    tokens = sum(len(tok.encode(t, add_special_tokens=False).ids) for t in texts)
    loop = time.perf_counter() - start
    start = time.perf_counter()
    batch_tokens = sum(len(e.ids) for e in tok.encode_batch(texts, add_special_tokens=False))
    batch = time.perf_counter() - start
    assert batch_tokens == tokens
    return tokens, loop, batch


def main():
    repeat = int(sys.argv[1])
    OUT.mkdir(parents=True, exist_ok=True)
    lines = (FIXTURES / "corpus.jsonl").read_text(encoding="utf-8").split("\n")[:-1]
    (OUT / "corpus.jsonl").write_text("\n".join(lines * repeat) + "\n", encoding="utf-8")
    texts = [json.loads(line) for line in lines] * repeat
    mb = sum(len(t.encode("utf-8")) for t in texts) / 1e6
    results = {"tokenizers": tokenizers_version, "strings": len(texts), "mb": mb, "rows": []}
    print(f"{len(texts)} strings, {mb:.1f} MB, tokenizers {tokenizers_version}, one thread each\n")
    print(f"{'tokenizer':<22} {'tokens':>9} {'safetune MB/s':>14} {'tokenizers loop':>16} {'encode_batch':>13} {'ratio (batch)':>14}")
    folders = {}
    for name, (bos, eos) in SPECIALS.items():
        folders[name] = OUT / name
        folders[name].mkdir(exist_ok=True)
        (folders[name] / "tokenizer.json").write_bytes((FIXTURES / name / "tokenizer.json").read_bytes())
        (folders[name] / "tokenizer_config.json").write_text(json.dumps({"bos_token": bos, "eos_token": eos}))
    if (REAL_SMOLLM2 / "tokenizer.json").exists():  # scripts/get_smollm2 fetches it
        folders["smollm2 (real)"] = REAL_SMOLLM2
    for name, folder in folders.items():
        run = subprocess.run([str(ROOT / "build" / "safetune"), "tokenize", "--model", str(folder), "--input",
                              str(OUT / "corpus.jsonl"), "--count"], check=True, capture_output=True, text=True)
        ours = json.loads(run.stdout)
        tokens, loop, batch = python_rates(folder / "tokenizer.json", texts)
        assert ours["tokens"] == tokens, (name, ours["tokens"], tokens)
        row = {"tokenizer": name, "tokens": tokens, "safetune_mb_s": mb / ours["seconds"], "tokenizers_loop_mb_s": mb / loop,
               "tokenizers_batch_mb_s": mb / batch}
        results["rows"].append(row)
        print(f"{name:<22} {tokens:>9} {row['safetune_mb_s']:>14.2f} {row['tokenizers_loop_mb_s']:>16.2f} "
              f"{row['tokenizers_batch_mb_s']:>13.2f} {row['safetune_mb_s'] / row['tokenizers_batch_mb_s']:>13.2f}x")
    (OUT / "results.json").write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
