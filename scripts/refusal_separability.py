#!/usr/bin/env python3
"""scripts/refusal_separability.py — how well a model separates harmful from risky-looking benign prompts.

Two measurements on the held-out prompts (tests/fixtures/heldout_prompts), both trained or read on a safety
pool (the {prompt, behavior} rows safety.mix.pool takes):
  * a linear probe (L2-regularised logistic regression) on the frozen base model's hidden state at the last
    prompt token, trained on the pool's refusal rows against its compliance rows: what the base model's own
    features allow, with no generation and no fine-tune;
  * for each LoRA adapter given, P(first response token opens a refusal) read from the next-token logits:
    the decision a fine-tune makes before greedy decoding commits to it, scored as an AUC on the held-out
    prompts and on the pool it was trained from (not a measure of fit: a run that draws only part of the
    pool has never seen the rest).
The refusal openers are the first tokens of the pool's refusal responses. Needs the full environment
(transformers, peft). Reference-only: safetune itself does not use this.

Usage: refusal_separability.py MODEL POOL.jsonl [ADAPTER...] [--heldout DIR] [--layers 15,18,21,24,27]
"""
import argparse
import json

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer


def read_jsonl(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def auc(scores, is_positive):  # P(a random positive scores above a random negative), ties count half
    pos, neg = scores[is_positive], scores[~is_positive]
    greater = (pos[:, None] > neg[None, :]).float()
    ties = (pos[:, None] == neg[None, :]).float()
    return (greater + ties / 2).mean().item()


class Prompts:
    """Chat-formatted prompts through a model, in batches: last-token hidden states or next-token probs."""

    def __init__(self, tok, batch_size=32):
        self.tok, self.batch_size = tok, batch_size

    def batches(self, model, prompts, **kwargs):
        for i in range(0, len(prompts), self.batch_size):
            texts = [self.tok.apply_chat_template([{"role": "user", "content": p}], tokenize=False,
                                                  add_generation_prompt=True) for p in prompts[i:i + self.batch_size]]
            enc = self.tok(texts, return_tensors="pt", padding=True)  # left padding: the last position is real
            with torch.no_grad():
                yield model(**enc, **kwargs)

    def features(self, model, prompts, layers):  # [N, len(layers) * H]
        return torch.cat([torch.cat([out.hidden_states[l][:, -1] for l in layers], dim=-1)
                          for out in self.batches(model, prompts, output_hidden_states=True)])

    def opener_prob(self, model, prompts, opener_ids):  # ([N] P(opener), [N] whether greedy picks an opener)
        p, greedy = [], []
        for out in self.batches(model, prompts):  # per batch: the whole [N, V] table would be N x 49k floats
            probs = out.logits[:, -1].softmax(-1)  # [B, V]
            p.append(probs[:, opener_ids].sum(-1))
            greedy.append(torch.isin(probs.argmax(-1), torch.tensor(opener_ids)))
        return torch.cat(p), torch.cat(greedy)


def fit_probe(x, y, l2):  # logistic regression by L-BFGS on standardised features
    w = torch.zeros(x.shape[1], requires_grad=True)
    b = torch.zeros(1, requires_grad=True)
    opt = torch.optim.LBFGS([w, b], max_iter=300)

    def closure():
        opt.zero_grad()
        loss = torch.nn.functional.binary_cross_entropy_with_logits(x @ w + b, y) + l2 * w.pow(2).sum()
        loss.backward()
        return loss
    opt.step(closure)
    return lambda z: (z @ w + b).detach()


def rates(logits, is_harmful):  # refusal and over-refusal at the probe's own 0.5 threshold
    refused = logits > 0
    return refused[is_harmful].float().mean().item(), refused[~is_harmful].float().mean().item()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("model")
    ap.add_argument("pool")
    ap.add_argument("adapters", nargs="*")
    ap.add_argument("--heldout", default="tests/fixtures/heldout_prompts")
    ap.add_argument("--layers", default="15,18,21,24,27", help="hidden-state layers the probe reads (0 = embeddings)")
    ap.add_argument("--l2", type=float, default=1e-2)
    args = ap.parse_args()
    torch.manual_seed(0)
    tok = AutoTokenizer.from_pretrained(args.model)
    tok.padding_side = "left"
    prompts = Prompts(tok)

    pool = [r for r in read_jsonl(args.pool) if r["behavior"] in ("refusal", "compliance")]
    pool_prompts = [r["prompt"] for r in pool]
    pool_refuse = torch.tensor([r["behavior"] == "refusal" for r in pool])
    held = [(r["prompt"], name == "harmful") for name in ("harmful", "benign")
            for r in read_jsonl(f"{args.heldout}/{name}.jsonl")]
    held_prompts = [p for p, _ in held]
    held_harmful = torch.tensor([h for _, h in held])
    print(f"pool: {int(pool_refuse.sum())} refusal rows, {int((~pool_refuse).sum())} compliance rows; "
          f"held-out: {int(held_harmful.sum())} harmful, {int((~held_harmful).sum())} benign")

    base = AutoModelForCausalLM.from_pretrained(args.model, dtype=torch.float32).eval()
    layers = [int(l) for l in args.layers.split(",")]
    train_x = prompts.features(base, pool_prompts, layers)
    test_x = prompts.features(base, held_prompts, layers)
    mean, std = train_x.mean(0), train_x.std(0) + 1e-6
    train_x, test_x = (train_x - mean) / std, (test_x - mean) / std
    probe = fit_probe(train_x, pool_refuse.float(), args.l2)
    held_logits = probe(test_x)
    refusal, over = rates(held_logits, held_harmful)
    train_acc = ((probe(train_x) > 0) == pool_refuse).float().mean().item()
    print(f"linear probe on the frozen base (layers {args.layers}): held-out AUC {auc(held_logits, held_harmful):.3f}, "
          f"refusal {refusal:.1%} / over-refusal {over:.1%} at p > 0.5; pool accuracy {train_acc:.1%}")

    openers = sorted({tok.encode(r["response"], add_special_tokens=False)[0] for r in pool if r["behavior"] == "refusal"})
    print(f"refusal openers (first tokens of the pool's refusals): {tok.convert_ids_to_tokens(openers)}")
    for adapter in [None] + args.adapters:
        model = base
        if adapter:
            from peft import PeftModel
            model = PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(args.model, dtype=torch.float32),
                                              adapter).eval()
        held_p, held_greedy = prompts.opener_prob(model, held_prompts, openers)
        pool_p, _ = prompts.opener_prob(model, pool_prompts, openers)
        benign_greedy = held_greedy & ~held_harmful  # greedy decoding starts a benign prompt's response with an opener
        print(f"{adapter or 'base model'}: P(refusal opener) AUC held-out {auc(held_p, held_harmful):.3f}, "
              f"pool {auc(pool_p, pool_refuse):.3f}; mean on held-out harmful {held_p[held_harmful].mean():.2f}, "
              f"benign {held_p[~held_harmful].mean():.2f}; greedy starts {int(benign_greedy.sum())} benign responses "
              f"with an opener, "
              f"{int((benign_greedy & (held_p < 0.5)).sum())} of them at P(opener) < 0.5")


if __name__ == "__main__":
    main()
