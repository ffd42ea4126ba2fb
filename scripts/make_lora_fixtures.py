#!/usr/bin/env python3
"""scripts/make_lora_fixtures.py — PEFT LoRA adapters on the tiny golden Llamas and what PEFT computes with
them: tests/fixtures/lora/<name>/ (adapter_config.json, adapter_model.safetensors as PEFT saves them) and
<name>.reference.safetensors (PEFT's logits on the golden inputs, unmerged, and the merged weights of
merge_and_unload). Needs the full install plus peft: scripts/make_lora_fixtures sets it up."""
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
