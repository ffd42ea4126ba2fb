#!/usr/bin/env python3
"""scripts/make_lora_fixtures.py — PEFT LoRA adapters on the tiny golden Llamas and what PEFT computes with
them: tests/fixtures/lora/<name>/ (adapter_config.json, adapter_model.safetensors as PEFT saves them) and
<name>.reference.safetensors (PEFT's logits on the golden inputs, unmerged, and the merged weights of
merge_and_unload); and lora/train_parity*: 10 steps of PEFT LoRA + torch.optim.AdamW on the batches of
training_parity.safetensors, from the adapter in lora/train_parity/. Needs the full install plus peft:
scripts/make_lora_fixtures sets it up."""
import json
from pathlib import Path

import peft
import torch
import transformers
from peft import LoraConfig, get_peft_model
from safetensors import safe_open
from safetensors.torch import save_file

ROOT = Path(__file__).resolve().parent.parent
FIX = ROOT / "tests" / "fixtures"

# name: (golden base, LoraConfig arguments). init_lora_weights=False draws B at random too, so the adapter
# changes the logits (PEFT's default B = 0 would make any loader look right).
ADAPTERS = {
    "all_linear_gqa": ("gqa_default_rope", dict(r=4, lora_alpha=8, target_modules="all-linear")),
    "qv_rslora_bias": ("mha_tied_linear_rope", dict(r=8, lora_alpha=4, target_modules=["q_proj", "v_proj"],
                                                     use_rslora=True)),
}


# LoRA training parity: the steps replay the first TRAIN["steps"] steps of make_reference.py's batches.
TRAIN = dict(model="gqa_default_rope", steps=10, grad_accum=2, lr=2e-2, beta1=0.9, beta2=0.95, eps=1e-8,
             weight_decay=0.1, max_grad_norm=1.0, r=4, alpha=8, targets=["q_proj", "v_proj", "o_proj", "up_proj", "down_proj"])


def make_training_parity():
    """PEFT's default initialisation (B = 0) saved as the starting adapter, then 10 AdamW steps at a constant LR
    with clipping and token-weighted accumulation over two micro-batches, as safetune's train_step runs them."""
    p = TRAIN
    torch.manual_seed(5)
    model = transformers.AutoModelForCausalLM.from_pretrained(FIX / "golden" / p["model"], attn_implementation="sdpa").float()
    lora = get_peft_model(model, LoraConfig(task_type="CAUSAL_LM", r=p["r"], lora_alpha=p["alpha"], lora_dropout=0.0,
                                            target_modules=p["targets"]))
    out = FIX / "lora" / "train_parity"
    lora.save_pretrained(out)
    (out / "README.md").unlink(missing_ok=True)
    cfg = json.loads((out / "adapter_config.json").read_text())
    cfg["base_model_name_or_path"] = f"../../golden/{p['model']}"
    (out / "adapter_config.json").write_text(json.dumps(cfg, indent=2, sort_keys=True) + "\n")
    lora.train()
    params = [t for _, t in lora.named_parameters() if t.requires_grad]
    opt = torch.optim.AdamW(params, lr=p["lr"], betas=(p["beta1"], p["beta2"]), eps=p["eps"],
                            weight_decay=p["weight_decay"], foreach=False)
    batches = {}
    with safe_open(str(FIX / "training_parity.safetensors"), "pt") as f:
        for k in f.keys():
            batches[k] = f.get_tensor(k)
    vocab = model.config.vocab_size
    losses, grad_norms = [], []
    for step in range(p["steps"]):
        micro = [(batches[f"step{step}.micro{a}.input_ids"], batches[f"step{step}.micro{a}.labels"]) for a in range(p["grad_accum"])]
        tokens = sum(int((l[:, 1:] != -100).sum()) for _, l in micro)
        ce = 0.0
        for ids, labels in micro:
            logits = lora(input_ids=ids).logits
            s = torch.nn.functional.cross_entropy(logits[:, :-1].reshape(-1, vocab).float(), labels[:, 1:].reshape(-1),
                                                  ignore_index=-100, reduction="sum")
            (s / tokens).backward()
            ce += s.item()
        grad_norms.append(torch.nn.utils.clip_grad_norm_(params, p["max_grad_norm"], foreach=False).item())
        opt.step()
        opt.zero_grad()
        losses.append(ce / tokens)
    final = {n.replace(".default", ""): t.detach().contiguous()
             for n, t in lora.named_parameters() if t.requires_grad}
    save_file(final, str(FIX / "lora" / "train_parity.final.safetensors"))
    (FIX / "lora" / "train_parity.json").write_text(json.dumps(
        {**p, "losses": losses, "grad_norms": grad_norms, "peft": peft.__version__, "torch": torch.__version__}, indent=1) + "\n")
    print(f"lora/train_parity: {p['steps']} steps, loss {losses[0]:.4f} -> {losses[-1]:.4f}")


def main():
    torch.manual_seed(0)
    (FIX / "lora").mkdir(parents=True, exist_ok=True)
    for i, (name, (base, args)) in enumerate(ADAPTERS.items()):
        torch.manual_seed(10 + i)
        model = transformers.AutoModelForCausalLM.from_pretrained(FIX / "golden" / base, attn_implementation="sdpa").float()
        lora = get_peft_model(model, LoraConfig(task_type="CAUSAL_LM", lora_dropout=0.0, init_lora_weights=False, **args))
        lora.eval()
        out = FIX / "lora" / name
        lora.save_pretrained(out)
        (out / "README.md").unlink(missing_ok=True)  # PEFT's model card template
        cfg = json.loads((out / "adapter_config.json").read_text())
        cfg["base_model_name_or_path"] = f"../../golden/{base}"  # relative, not this machine's path
        (out / "adapter_config.json").write_text(json.dumps(cfg, indent=2, sort_keys=True) + "\n")
        with safe_open(str(FIX / "golden" / f"{base}.reference.safetensors"), "pt") as f:
            input_ids = f.get_tensor("input_ids")
        with torch.no_grad():
            logits = lora(input_ids=input_ids).logits
            with lora.disable_adapter():
                base_logits = lora(input_ids=input_ids).logits
            merged = lora.merge_and_unload()
            merged_logits = merged(input_ids=input_ids).logits
        tensors = {"input_ids": input_ids, "logits": logits.float().contiguous(), "merged_logits": merged_logits.float().contiguous()}
        for n, p in merged.named_parameters():
            tensors["merged." + n] = p.detach().float().contiguous()
        save_file(tensors, str(FIX / "lora" / f"{name}.reference.safetensors"),
                  metadata={"producer": f"peft {peft.__version__}, transformers {transformers.__version__}, torch {torch.__version__}"})
        print(f"lora/{name}: the adapter moves the logits by up to {(logits - base_logits).abs().max().item():.3f}")
        print(f"lora/{name}: base {base}, r {cfg['r']}, alpha {cfg['lora_alpha']}, targets {sorted(cfg['target_modules'])}, "
              f"max |logit - merged| {(logits - merged_logits).abs().max().item():.2e}")


if __name__ == "__main__":
    main()
    make_training_parity()
