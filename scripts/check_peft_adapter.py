#!/usr/bin/env python3
"""scripts/check_peft_adapter.py BASE ADAPTER EXPECTED — loads a safetune-written adapter folder with
peft.PeftModel.from_pretrained(base, adapter) and compares its logits on EXPECTED's input_ids with EXPECTED's
logits (what safetune computed). Prints the max difference; exit 1 above the tolerance. The test
LoraPeft.SafetuneAdapterLoadsInPeft runs it where the full environment (torch, transformers, peft) exists."""
import argparse
import sys

import peft
import torch
import transformers
from safetensors.torch import load_file


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("base")
    ap.add_argument("adapter")
    ap.add_argument("expected", help="safetensors with input_ids and logits")
    ap.add_argument("--tolerance", type=float, default=1e-5)
    args = ap.parse_args()
    base = transformers.AutoModelForCausalLM.from_pretrained(args.base, attn_implementation="sdpa").float()
    model = peft.PeftModel.from_pretrained(base, args.adapter).eval()
    expected = load_file(args.expected)
    with torch.no_grad():
        logits = model(input_ids=expected["input_ids"]).logits
    diff = (logits - expected["logits"]).abs().max().item()
    print(f"peft {peft.__version__}: max |logit diff| {diff:.3e} (tol {args.tolerance:g})")
    return 0 if diff <= args.tolerance else 1


if __name__ == "__main__":
    sys.exit(main())
