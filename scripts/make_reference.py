#!/usr/bin/env python3
"""scripts/make_reference.py — builds the golden fixtures under tests/fixtures/ with the reference
implementations (Hugging Face transformers, PyTorch, the Python safetensors and sentencepiece packages),
and proves that what safetune writes, they read.

Run with the project's venv (scripts/make_reference does it):
    .venv/bin/python scripts/make_reference.py [--safetune build/safetune]

Writes (all small, committed):
  tests/fixtures/tokenizer/tokenizer.model, tokenizer_cases.json   sentencepiece golden encodings
  tests/fixtures/golden/<name>/  config.json model.safetensors tokenizer.model   tiny random Llamas
  tests/fixtures/golden/<name>.reference.safetensors   input_ids, labels, logits  (written by Python)
  tests/fixtures/golden/<name>.reference.json          loss, per-parameter gradient norms, max |logit|
  tests/fixtures/safetensors/dtypes.safetensors + dtypes.json   one tensor per dtype, expected values
Then, with --safetune, runs `safetune convert` / `init-model` on those models and checks the results with
safetensors.safe_open and transformers.AutoModelForCausalLM (logits equal to the original).
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import torch
import transformers
from safetensors import safe_open
from safetensors.torch import save_file
import sentencepiece as spm

ROOT = Path(__file__).resolve().parent.parent
FIX = ROOT / "tests" / "fixtures"

# Tiny but complete: GQA and not, tied and untied, bias, head_dim != hidden/heads, each rope type.
MODELS = {
    "gqa_default_rope": dict(hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=4,
                             num_key_value_heads=2, tie_word_embeddings=False, rope_theta=10000.0),
    "mha_tied_linear_rope": dict(hidden_size=32, intermediate_size=48, num_hidden_layers=2, num_attention_heads=4,
                                 num_key_value_heads=4, tie_word_embeddings=True, attention_bias=True,
                                 rope_theta=10000.0, rope_scaling={"rope_type": "linear", "factor": 2.0}),
    "gqa_llama3_rope": dict(hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=4,
                            num_key_value_heads=1, head_dim=16, tie_word_embeddings=False, rope_theta=10000.0,
                            max_position_embeddings=128,
                            rope_scaling={"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0,
                                          "high_freq_factor": 4.0, "original_max_position_embeddings": 64}),
    # The other registered families, through transformers' own classes: Qwen2 (biases on q/k/v only) and
    # Mistral (no window: null, as v0.2 and later ship it).
    "qwen2_qkv_bias": dict(family="qwen2", hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                           num_attention_heads=4, num_key_value_heads=2, tie_word_embeddings=False, rope_theta=10000.0,
                           use_sliding_window=False),
    "mistral_gqa": dict(family="mistral", hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                        num_attention_heads=4, num_key_value_heads=1, head_dim=16, tie_word_embeddings=True,
                        rope_theta=10000.0, sliding_window=None),
}
FAMILIES = {"llama": (transformers.LlamaConfig, transformers.LlamaForCausalLM),
            "qwen2": (transformers.Qwen2Config, transformers.Qwen2ForCausalLM),
            "mistral": (transformers.MistralConfig, transformers.MistralForCausalLM)}
VOCAB = 256
SEQ = 24


def train_tokenizer(out_dir: Path, retrain: bool) -> Path:
    """Trains the fixture tokenizer once; later runs keep it (sentencepiece training is not bit-reproducible,
    and every other fixture is tokenized with it)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    if (out_dir / "tokenizer.model").exists() and not retrain:
        return out_dir / "tokenizer.model"
    with tempfile.TemporaryDirectory() as tmp:
        corpus = Path(tmp) / "corpus.txt"
        subprocess.run([sys.executable, str(ROOT / "scripts" / "tiny_corpus.py"), str(corpus)], check=True)
        # Llama-style: BPE, identity normalisation, BOS=1 EOS=2 UNK=0, no pad piece.
        spm.SentencePieceTrainer.train(
            input=str(corpus), model_prefix=str(Path(tmp) / "tok"), vocab_size=VOCAB, model_type="bpe",
            bos_id=1, eos_id=2, unk_id=0, pad_id=-1, character_coverage=1.0, num_threads=1,
            normalization_rule_name="identity", remove_extra_whitespaces=False, split_digits=True,
            minloglevel=2)
        model = out_dir / "tokenizer.model"
        model.write_bytes((Path(tmp) / "tok.model").read_bytes())
    sp = spm.SentencePieceProcessor(model_file=str(model))
    texts = ["Describe the quiet garden near the river.", "", " leading and  double  spaces ",
             "Numbers 2024 and 3.14", "literal <s> and </s> stay text", "Unicode: café, naïve, 東京 🙂",
             "I'm sorry, I can't help with that.", "line one\nline two\ttab"]
    cases = [{"text": t, "ids": sp.encode(t), "decoded": sp.decode(sp.encode(t))} for t in texts]
    (out_dir / "tokenizer_cases.json").write_text(json.dumps(
        {"vocab_size": sp.get_piece_size(), "bos_id": sp.bos_id(), "eos_id": sp.eos_id(), "pad_id": sp.pad_id(),
         "unk_id": sp.unk_id(), "cases": cases}, indent=1, ensure_ascii=False) + "\n")
    return model


def make_model(name: str, spec: dict, tokenizer: Path, seed: int) -> None:
    torch.manual_seed(seed)
    spec = dict(spec)
    config_class, model_class = FAMILIES[spec.pop("family", "llama")]
    config = config_class(vocab_size=VOCAB, bos_token_id=1, eos_token_id=2, rms_norm_eps=1e-5,
                          initializer_range=0.1, attn_implementation="sdpa", **spec)
    model = model_class(config).float().eval()
    with torch.no_grad():  # biases and norms start at 0 / 1; make them non-trivial so they are tested
        for pname, p in model.named_parameters():
            if pname.endswith("bias") or "norm" in pname:
                p.add_(0.1 * torch.randn_like(p))
    out = FIX / "golden" / name
    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out, safe_serialization=True)
    (out / "tokenizer.model").write_bytes(tokenizer.read_bytes())
    for extra in ("generation_config.json",):
        if (out / extra).exists():
            (out / extra).unlink()

    g = torch.Generator().manual_seed(seed + 1)
    input_ids = torch.randint(3, VOCAB, (2, SEQ), generator=g)
    labels = input_ids.clone()
    labels[0, :7] = -100   # a prompt masked out of the loss
    labels[1, -5:] = -100  # right padding
    model.train()  # dropout is 0 for Llama; train() only to mirror a training step
    result = model(input_ids=input_ids, labels=labels)
    result.loss.backward()
    grad_norms = {n: p.grad.norm().item() for n, p in model.named_parameters()}
    save_file({"input_ids": input_ids.contiguous(), "labels": labels.contiguous(),
               "logits": result.logits.detach().float().contiguous()},
              str(FIX / "golden" / f"{name}.reference.safetensors"),
              metadata={"producer": f"transformers {transformers.__version__}, torch {torch.__version__}"})
    (FIX / "golden" / f"{name}.reference.json").write_text(json.dumps(
        {"loss": result.loss.item(), "grad_norms": grad_norms,
         "max_abs_logit": result.logits.abs().max().item(),
         "transformers": transformers.__version__, "torch": torch.__version__}, indent=1) + "\n")
    print(f"golden/{name}: loss {result.loss.item():.6f}, max |logit| {result.logits.abs().max().item():.3f}")


PARITY = dict(model="gqa_default_rope", steps=20, grad_accum=2, batch=3, seq=16, lr=1e-3, beta1=0.9, beta2=0.95,
              eps=1e-8, weight_decay=0.1, warmup=3, max_grad_norm=1.0, schedule="cosine")


def make_training_parity() -> None:
    """20 steps of torch.optim.AdamW (single-tensor path, what PyTorch runs on CPU) with warmup + cosine,
    gradient clipping and token-weighted accumulation, on fixed batches the C++ test replays."""
    import math
    p = PARITY
    model = transformers.LlamaForCausalLM.from_pretrained(FIX / "golden" / p["model"], attn_implementation="sdpa").float()
    model.train()
    named = list(model.named_parameters())
    groups = [{"params": [t for n, t in named if t.dim() >= 2], "weight_decay": p["weight_decay"]},
              {"params": [t for n, t in named if t.dim() < 2], "weight_decay": 0.0}]
    opt = torch.optim.AdamW(groups, lr=p["lr"], betas=(p["beta1"], p["beta2"]), eps=p["eps"], foreach=False)

    def lr_lambda(step):  # transformers' get_cosine_schedule_with_warmup
        if step < p["warmup"]:
            return step / p["warmup"]
        progress = (step - p["warmup"]) / max(1, p["steps"] - p["warmup"])
        return 0.5 * (1.0 + math.cos(math.pi * progress))

    sched = torch.optim.lr_scheduler.LambdaLR(opt, lr_lambda)
    g = torch.Generator().manual_seed(11)
    tensors, losses, grad_norms, lrs = {}, [], [], []
    for step in range(p["steps"]):
        micro = []
        for a in range(p["grad_accum"]):
            ids = torch.randint(3, VOCAB, (p["batch"], p["seq"]), generator=g)
            labels = ids.clone()
            for b in range(p["batch"]):
                labels[b, : int(torch.randint(1, 8, (1,), generator=g))] = -100   # prompt
                pad = int(torch.randint(0, 5, (1,), generator=g))
                if pad:
                    labels[b, -pad:] = -100                                          # right padding
            if step == 4 and a == 1:
                labels[:] = -100  # a fully masked micro-batch inside a step: must add nothing, never NaN
            tensors[f"step{step}.micro{a}.input_ids"] = ids
            tensors[f"step{step}.micro{a}.labels"] = labels
            micro.append((ids, labels))
        tokens = sum(int((l[:, 1:] != -100).sum()) for _, l in micro)
        ce = 0.0
        for ids, labels in micro:
            logits = model(input_ids=ids).logits
            s = torch.nn.functional.cross_entropy(logits[:, :-1].reshape(-1, VOCAB).float(), labels[:, 1:].reshape(-1),
                                                  ignore_index=-100, reduction="sum")
            (s / tokens).backward()
            ce += s.item()
        lrs.append(opt.param_groups[0]["lr"])
        grad_norms.append(torch.nn.utils.clip_grad_norm_(model.parameters(), p["max_grad_norm"], foreach=False).item())
        opt.step()
        sched.step()
        opt.zero_grad()
        losses.append(ce / tokens)
    save_file(tensors, str(FIX / "training_parity.safetensors"))
    (FIX / "training_parity.json").write_text(json.dumps({**p, "losses": losses, "grad_norms": grad_norms, "lrs": lrs,
                                                          "torch": torch.__version__}, indent=1) + "\n")
    print(f"training parity: {p['steps']} steps, loss {losses[0]:.4f} -> {losses[-1]:.4f}")


GEN_PROMPTS = [[1, 40, 41, 42, 43], [1, 7, 8, 9, 10, 11, 12, 13, 14], [1, 99]]


def make_generation() -> None:
    """transformers' greedy generate with left padding (what safetune's KV-cache decoding must equal)."""
    out = {"prompts": GEN_PROMPTS, "max_new_tokens": 12}
    for name in MODELS:
        model = transformers.AutoModelForCausalLM.from_pretrained(FIX / "golden" / name, attn_implementation="sdpa").eval()
        model.generation_config.eos_token_id = None  # compare a fixed number of tokens
        longest = max(len(p) for p in GEN_PROMPTS)
        ids = torch.tensor([[0] * (longest - len(p)) + p for p in GEN_PROMPTS])
        mask = torch.tensor([[0] * (longest - len(p)) + [1] * len(p) for p in GEN_PROMPTS])
        with torch.no_grad():
            gen = model.generate(input_ids=ids, attention_mask=mask, max_new_tokens=12, min_new_tokens=12,
                                 do_sample=False, pad_token_id=0)
        out[name] = gen[:, longest:].tolist()
    (FIX / "generation.json").write_text(json.dumps(out) + "\n")
    print(f"generation: transformers greedy continuations for {len(MODELS)} models")


def make_dtypes() -> None:
    out = FIX / "safetensors"
    out.mkdir(parents=True, exist_ok=True)
    base = torch.tensor([[-2.5, -1.0, 0.0], [0.5, 1.75, 3.0]])
    tensors = {
        "f32": base.clone(), "f16": base.half(), "bf16": base.bfloat16(), "f64": base.double() / 3,
        "i64": torch.tensor([-(2**40), -1, 0, 2**40]), "i32": torch.tensor([-7, 0, 7], dtype=torch.int32),
        "i16": torch.tensor([-300, 300], dtype=torch.int16), "i8": torch.tensor([-128, 127], dtype=torch.int8),
        "u8": torch.tensor([0, 255], dtype=torch.uint8), "bool": torch.tensor([True, False, True]),
        "scalar": torch.tensor(4.0), "empty": torch.zeros(0, 3),
    }
    save_file(tensors, str(out / "dtypes.safetensors"), metadata={"format": "pt", "note": "written by Python"})
    expected = {k: {"shape": list(v.shape), "values": v.double().flatten().tolist()} for k, v in tensors.items()}
    (out / "dtypes.json").write_text(json.dumps({"metadata": {"format": "pt", "note": "written by Python"},
                                                 "tensors": expected}, indent=1) + "\n")


def check_safetune_writes(safetune: str) -> None:
    """What safetune writes (convert, init-model; single file and shards), Python reads."""
    with tempfile.TemporaryDirectory() as tmp:
        for name in MODELS:
            src = FIX / "golden" / name
            ref = transformers.AutoModelForCausalLM.from_pretrained(src, attn_implementation="sdpa").eval()
            ids = torch.randint(3, VOCAB, (1, 16), generator=torch.Generator().manual_seed(7))
            with torch.no_grad():
                want = ref(ids).logits
            for dtype, shard, tol in (("float32", "", 0.0), ("bfloat16", "20KB", 5e-2)):
                dst = Path(tmp) / f"{name}-{dtype}"
                cmd = [safetune, "convert", str(src), str(dst), "--dtype", dtype]
                if shard:
                    cmd += ["--max-shard-size", shard]
                subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
                files = sorted(dst.glob("*.safetensors"))
                assert (len(files) > 1) == bool(shard), f"{dst}: expected sharding={bool(shard)}, got {files}"
                for f in files:  # every tensor readable by the Python library, equal to the source
                    with safe_open(str(f), "pt") as st:
                        for key in st.keys():
                            got = st.get_tensor(key)
                            exp = ref.state_dict()[key].to(got.dtype)
                            assert torch.equal(got, exp), f"{f}:{key} differs from the source"
                got_model = transformers.AutoModelForCausalLM.from_pretrained(dst, attn_implementation="sdpa",
                                                                               dtype=torch.float32).eval()
                with torch.no_grad():
                    diff = (got_model(ids).logits - want).abs().max().item()
                assert diff <= tol, f"{dst}: logits differ by {diff} > {tol}"
                print(f"safetune convert {name} -> {dtype}{' sharded' if shard else ''}: "
                      f"{len(files)} file(s) read by safetensors, transformers logits max diff {diff:.2e}")
        # safetune train's final/ is a folder transformers loads, equal to the last checkpoint's weights,
        # and training lowered the loss on its own data as transformers measures it.
        run = Path(tmp) / "run"
        config = Path(tmp) / "run.json"
        config.write_text(json.dumps({
            "model": {"path": str(FIX / "golden" / "gqa_default_rope")},
            "data": {"train": str(FIX / "train" / "train.jsonl"), "format": "prompt_completion", "max_seq_len": 64},
            "train": {"output_dir": str(run), "max_steps": 30, "batch_size": 8, "seed": 1},
            "optim": {"lr": 3e-3}, "log": {"progress": "never", "every_steps": 10}}))
        lines = [json.loads(l) for l in (FIX / "train" / "train.jsonl").read_text().splitlines()]
        pc = [l for l in lines if "prompt" in l]
        (Path(tmp) / "pc.jsonl").write_text("".join(json.dumps(l) + "\n" for l in pc))
        subprocess.run([safetune, "train", "--config", str(config), "--set", f"data.train={Path(tmp) / 'pc.jsonl'}"],
                       check=True, stdout=subprocess.DEVNULL)
        final = transformers.AutoModelForCausalLM.from_pretrained(run / "final").eval()
        with safe_open(str(run / "checkpoints" / "step-00000030" / "model.safetensors"), "pt") as ck:
            for key in ck.keys():
                assert torch.equal(ck.get_tensor(key), final.state_dict()[key]), f"final/{key} != checkpoint"
        base = transformers.AutoModelForCausalLM.from_pretrained(FIX / "golden" / "gqa_default_rope").eval()
        sp = spm.SentencePieceProcessor(model_file=str(run / "final" / "tokenizer.model"))

        def ce(model):  # completion tokens only, Llama-2 template as safetune builds it
            total, count = 0.0, 0
            for l in pc[:40]:
                prompt = [1] + sp.encode("[INST] " + l["prompt"] + " [/INST]")
                answer = sp.encode(l["completion"]) + [2]
                ids = torch.tensor([prompt + answer])
                labels = ids.clone()
                labels[0, : len(prompt)] = -100
                with torch.no_grad():
                    out = model(input_ids=ids, labels=labels)
                n = len(answer)
                total, count = total + out.loss.item() * n, count + n
            return total / count
        before, after = ce(base), ce(final)
        assert after < before - 0.5, (before, after)
        print(f"safetune train final/: loaded by transformers, equal to the last checkpoint; "
              f"completion CE {before:.3f} -> {after:.3f} as transformers measures it")

        dst = Path(tmp) / "init"
        subprocess.run([safetune, "init-model", "--config", str(ROOT / "configs" / "tiny_llama.json"), "--out", str(dst),
                        "--tokenizer", str(FIX / "tokenizer" / "tokenizer.model"), "--seed", "1"],
                       check=True, stdout=subprocess.DEVNULL)
        m = transformers.AutoModelForCausalLM.from_pretrained(dst)
        std = m.model.layers[0].mlp.up_proj.weight.std().item()
        assert abs(std - 0.02) < 0.002, f"init-model std {std}"
        print(f"safetune init-model: loaded by transformers, init std {std:.4f} (expected 0.02)")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--safetune", default=str(ROOT / "build" / "safetune"),
                    help="built safetune binary used to check the writer (skip with --no-writer-check)")
    ap.add_argument("--no-writer-check", action="store_true")
    ap.add_argument("--retrain-tokenizer", action="store_true")
    ap.add_argument("--only", nargs="+", metavar="MODEL", help="write only these golden models, nothing else")
    args = ap.parse_args()
    torch.use_deterministic_algorithms(True)
    tokenizer = train_tokenizer(FIX / "tokenizer", args.retrain_tokenizer)
    if args.only:
        for i, (name, spec) in enumerate(MODELS.items()):
            if name in args.only:
                make_model(name, spec, tokenizer, seed=100 + i)
        return
    for i, (name, spec) in enumerate(MODELS.items()):
        make_model(name, spec, tokenizer, seed=100 + i)
    make_dtypes()
    make_training_parity()
    make_generation()
    subprocess.run([sys.executable, str(ROOT / "scripts" / "make_bad_safetensors.py")], check=True)
    if not args.no_writer_check:
        if not os.access(args.safetune, os.X_OK):
            sys.exit(f"{args.safetune}: not built; run ./scripts/test first or pass --no-writer-check")
        check_safetune_writes(args.safetune)
    total = sum(p.stat().st_size for p in FIX.rglob("*") if p.is_file())
    print(f"fixtures: {total / 1e6:.2f} MB in tests/fixtures")


if __name__ == "__main__":
    main()
