#!/usr/bin/env python3
"""scripts/check_smollm2.py [MODEL_DIR] — the transformers side of the SmolLM2-135M-Instruct comparison.
Needs the full install (torch, transformers, accelerate: scripts/check_smollm2 sets it up).

Writes tests/fixtures/smollm2/reference.json (small, committed): for each prompt the ids of transformers'
apply_chat_template(..., add_generation_prompt=True), the greedy continuation of its generate(), and the 20
largest next-token logits at the prompt's end. With --bench it writes nothing and prints transformers' CPU
timings instead (decoding tokens/s, one prompt at a time; seconds per AdamW training step on the batch
shape given by --train-*), for scripts/bench_smollm2.
It also checks that the converted folder holds the same weights as transformers' own GGUF reader when the
GGUF is given (--gguf)."""
import argparse
import json
import time
from pathlib import Path

import torch
import transformers
from transformers import AutoModelForCausalLM, AutoTokenizer

ROOT = Path(__file__).resolve().parent.parent
PROMPTS = [
    "What is the capital of France?", "What is 12 plus 30?", "Write a haiku about the sea.",
    "Explain photosynthesis in one sentence.", "Translate 'good morning' into Spanish.",
    "Name the three primary colors.", "What is Python?", "How do I boil an egg?",
    "Which planet is the largest in our solar system?", "Write a short greeting for a birthday card.",
    "What does DNA stand for?", "Give two benefits of regular exercise.",
]
NEW_TOKENS = 48
TOP = 20


def generations(model, tok):
    cases = []
    for prompt in PROMPTS:
        ids = tok.apply_chat_template([{"role": "user", "content": prompt}], add_generation_prompt=True)
        ids = list(ids["input_ids"] if hasattr(ids, "keys") else ids)
        x = torch.tensor([ids])
        with torch.no_grad():
            logits = model(x).logits[0, -1].float()
            out = model.generate(x, max_new_tokens=NEW_TOKENS, do_sample=False, eos_token_id=tok.eos_token_id,
                                 pad_token_id=tok.pad_token_id)
        new = out[0, len(ids):].tolist()
        top = torch.topk(logits, TOP)
        cases.append({"prompt": prompt, "prompt_ids": ids, "greedy_ids": new, "text": tok.decode(new, skip_special_tokens=True),
                      "top_ids": top.indices.tolist(), "top_logits": [round(v, 5) for v in top.values.tolist()]})
    return cases


def decode_tokens_per_s(model, tok):
    """Tokens per second of decoding alone: each prompt generated to 1 and to NEW_TOKENS tokens, the difference
    timed (so the prefill and the first token cancel), summed over the prompts; as scripts/bench_smollm2
    times safetune generate."""
    seconds, tokens = 0.0, 0
    for prompt in PROMPTS:
        ids = tok.apply_chat_template([{"role": "user", "content": prompt}], add_generation_prompt=True)
        x = torch.tensor([list(ids["input_ids"] if hasattr(ids, "keys") else ids)])
        times = []
        for n in (1, NEW_TOKENS):
            start = time.perf_counter()
            with torch.no_grad():
                out = model.generate(x, max_new_tokens=n, do_sample=False, pad_token_id=tok.pad_token_id)
            times.append(time.perf_counter() - start)
        seconds += times[1] - times[0]
        tokens += out.shape[1] - x.shape[1] - 1
    return tokens / seconds


def train_step_seconds(model, batch, seq, steps=3):
    model.train()
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-5)
    x = torch.randint(20, 40000, (batch, seq), generator=torch.Generator().manual_seed(0))
    times = []
    for _ in range(steps + 1):
        start = time.perf_counter()
        loss = model(x, labels=x).loss
        loss.backward()
        opt.step()
        opt.zero_grad()
        times.append(time.perf_counter() - start)
    return sorted(times[1:])[len(times[1:]) // 2]  # median, the first (warm-up) step left out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model", nargs="?", default=str(ROOT / "downloads" / "SmolLM2-135M-Instruct"))
    ap.add_argument("--gguf", help="the GGUF the folder was converted from: compare with transformers' reader")
    ap.add_argument("--train-batch", type=int, default=4)
    ap.add_argument("--train-seq", type=int, default=128)
    ap.add_argument("--bench", action="store_true", help="print timings; write nothing")
    ap.add_argument("--lora", type=int, default=0, metavar="R",
                    help="with --bench: time only the training step of a PEFT LoRA of rank R on every linear layer")
    args = ap.parse_args()
    torch.manual_seed(0)
    tok = AutoTokenizer.from_pretrained(args.model)
    model = AutoModelForCausalLM.from_pretrained(args.model, dtype=torch.float32).eval()
    report = {"transformers": transformers.__version__, "torch": torch.__version__, "threads": torch.get_num_threads()}
    if args.bench and args.lora:
        import resource
        import peft
        model = peft.get_peft_model(model, peft.LoraConfig(task_type="CAUSAL_LM", r=args.lora, lora_alpha=args.lora,
                                                            target_modules="all-linear"))
        report.update(peft=peft.__version__, lora_r=args.lora,
                      train_step_s={"batch": args.train_batch, "seq": args.train_seq,
                                    "seconds": train_step_seconds(model, args.train_batch, args.train_seq)},
                      peak_rss_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
        print(json.dumps(report))
        return
    if args.bench:
        report["decode_tokens_per_s"] = decode_tokens_per_s(model, tok)
        report["train_step_s"] = {"batch": args.train_batch, "seq": args.train_seq,
                                  "seconds": train_step_seconds(model, args.train_batch, args.train_seq)}
        print(json.dumps(report))
        return
    if args.gguf:
        gguf = Path(args.gguf)
        ref = AutoModelForCausalLM.from_pretrained(str(gguf.parent), gguf_file=gguf.name, dtype=torch.float32)
        a, b = model.state_dict(), ref.state_dict()
        report["max_weight_diff_vs_transformers_gguf_reader"] = max((a[k] - b[k]).abs().max().item() for k in a)
    report["cases"] = generations(model, tok)
    out = ROOT / "tests" / "fixtures" / "smollm2" / "reference.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=1, ensure_ascii=False) + "\n")
    print(json.dumps({k: v for k, v in report.items() if k != "cases"}))


if __name__ == "__main__":
    main()
