#!/usr/bin/env python3
"""scripts/bench_reference.py — the Python side of scripts/bench: the training loop a user would otherwise
write, with transformers' LlamaForCausalLM (SDPA attention) and torch.optim.AdamW, on the same model
folder, batch and sequence length as safetune. Prints one JSON line: each timed step's wall and process
CPU time (after warm-up), their median, tokens/s, and peak memory.

Usage: bench_reference.py MODEL_DIR --batch B --seq T --warmup W --steps N [--device cpu|cuda] [--lr LR]
"""
import argparse
import json
import resource
import statistics
import time

import torch
from transformers import LlamaForCausalLM


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model")
    ap.add_argument("--batch", type=int, required=True)
    ap.add_argument("--seq", type=int, required=True)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--lr", type=float, default=1e-4)
    args = ap.parse_args()
    device = torch.device(args.device)
    torch.manual_seed(0)
    model = LlamaForCausalLM.from_pretrained(args.model, attn_implementation="sdpa", dtype=torch.float32).to(device)
    model.train()
    # No weight decay on norms and biases, as safetune (and transformers' Trainer) does.
    decay = [p for n, p in model.named_parameters() if p.dim() >= 2]
    no_decay = [p for n, p in model.named_parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.01}, {"params": no_decay, "weight_decay": 0.0}],
                            lr=args.lr, fused=device.type == "cuda")
    vocab = model.config.vocab_size
    g = torch.Generator().manual_seed(0)
    times, cpu_times = [], []
    for step in range(args.warmup + args.steps):
        ids = torch.randint(3, min(vocab, 2000), (args.batch, args.seq), generator=g).to(device)
        if device.type == "cuda":
            torch.cuda.synchronize()
        t0, c0 = time.perf_counter(), time.process_time()
        with torch.autocast(device_type=device.type, dtype=torch.bfloat16, enabled=device.type == "cuda"):
            loss = model(input_ids=ids, labels=ids).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        opt.zero_grad(set_to_none=True)
        if device.type == "cuda":
            torch.cuda.synchronize()
        if step >= args.warmup:
            times.append(time.perf_counter() - t0)
            cpu_times.append(time.process_time() - c0)
    step_s = statistics.median(times)
    out = {"impl": "python", "step_times": times, "cpu_times": cpu_times, "step_s": step_s,
           "tokens_per_s": args.batch * args.seq / step_s,
           "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "torch": torch.__version__,
           "threads": torch.get_num_threads()}
    if device.type == "cuda":
        out["peak_cuda_mb"] = torch.cuda.max_memory_allocated() / 2**20
    print(json.dumps(out))


if __name__ == "__main__":
    main()
