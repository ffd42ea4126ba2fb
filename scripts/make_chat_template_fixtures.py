#!/usr/bin/env python3
"""scripts/make_chat_template_fixtures.py — builds tests/fixtures/chat_template/: one small model folder per
chat family (tokenizer.json from the tokenizer fixtures plus the family's control tokens, and a
tokenizer_config.json holding the family's published Jinja chat_template), and the ids transformers'
apply_chat_template(..., tokenize=True) gives for single- and multi-turn conversations with and without a
system prompt. Needs transformers (no torch): scripts/make_chat_template_fixtures installs it."""
import json
import shutil
import sys
from pathlib import Path

import transformers
from tokenizers import AddedToken, Tokenizer
from transformers import AutoTokenizer

ROOT = Path(__file__).resolve().parent.parent
BASES = ROOT / "tests" / "fixtures" / "hf_tokenizer"
OUT = ROOT / "tests" / "fixtures" / "chat_template"

# The templates as their model cards publish them (tokenizer_config.json's chat_template).
SMOLLM2 = ("{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}{{ '<|im_start|>system\n"
           "You are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n' }}{% endif %}{{'<|im_start|>' + "
           "message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}{% endfor %}{% if add_generation_prompt %}"
           "{{ '<|im_start|>assistant\n' }}{% endif %}")
QWEN2 = ("{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}{{ '<|im_start|>system\\n"
         "You are a helpful assistant.<|im_end|>\\n' }}{% endif %}{{'<|im_start|>' + message['role'] + '\\n' + "
         "message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}"
         "{% endif %}")
LLAMA3 = ("{% set loop_messages = messages %}{% for message in loop_messages %}{% set content = '<|start_header_id|>' + "
          "message['role'] + '<|end_header_id|>\n\n'+ message['content'] | trim + '<|eot_id|>' %}{% if loop.index0 == 0 %}"
          "{% set content = bos_token + content %}{% endif %}{{ content }}{% endfor %}{% if add_generation_prompt %}"
          "{{ '<|start_header_id|>assistant<|end_header_id|>\n\n' }}{% endif %}")
LLAMA2 = ("{% if messages[0]['role'] == 'system' %}{% set loop_messages = messages[1:] %}{% set system_message = "
          "messages[0]['content'] %}{% else %}{% set loop_messages = messages %}{% set system_message = false %}{% endif %}"
          "{% for message in loop_messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}"
          "{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}"
          "{% if loop.index0 == 0 and system_message != false %}{% set content = '<<SYS>>\\n' + system_message + "
          "'\\n<</SYS>>\\n\\n' + message['content'] %}{% else %}{% set content = message['content'] %}{% endif %}"
          "{% if message['role'] == 'user' %}{{ bos_token + '[INST] ' + content.strip() + ' [/INST]' }}"
          "{% elif message['role'] == 'assistant' %}{{ ' '  + content.strip() + ' ' + eos_token }}{% endif %}{% endfor %}")
MISTRAL = ("{{ bos_token }}{% for message in messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}"
           "{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}"
           "{% if message['role'] == 'user' %}{{ '[INST] ' + message['content'] + ' [/INST]' }}{% elif message['role'] == "
           "'assistant' %}{{ message['content'] + eos_token}}{% else %}{{ raise_exception('Only user and assistant roles "
           "are supported!') }}{% endif %}{% endfor %}")

# name: (base tokenizer fixture, control tokens to add, tokenizer_config special tokens, template)
FAMILIES = {
    "chatml_smollm2": ("digits_byte_level", [], {"bos_token": "<|im_start|>", "eos_token": "<|im_end|>"}, SMOLLM2),
    "chatml_qwen2": ("nfc_qwen2", [], {"bos_token": None, "eos_token": "<|im_end|>", "pad_token": "<|endoftext|>"}, QWEN2),
    "llama3": ("byte_level_llama3", ["<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>"],
               {"bos_token": "<|begin_of_text|>", "eos_token": "<|eot_id|>"}, LLAMA3),
    "llama2": ("byte_fallback_llama2", [], {"bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>"}, LLAMA2),
    "mistral": ("byte_fallback_llama2", [], {"bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>"}, MISTRAL),
}

S = {"role": "system", "content": "You are a careful assistant. Answer briefly."}
CONVERSATIONS = [
    ("one_turn", [{"role": "user", "content": "What is the capital of France?"},
                  {"role": "assistant", "content": "The capital of France is Paris."}]),
    ("one_turn_system", [S, {"role": "user", "content": "How many legs does a spider have?"},
                         {"role": "assistant", "content": "Eight."}]),
    ("two_turns", [{"role": "user", "content": "Name a prime number."}, {"role": "assistant", "content": "7 is prime."},
                   {"role": "user", "content": "And one above 100?"}, {"role": "assistant", "content": "101, for example."}]),
    ("two_turns_system", [S, {"role": "user", "content": "Café au lait, s'il vous plaît!"},
                          {"role": "assistant", "content": "Voilà: one café au lait (3,50 €)."},
                          {"role": "user", "content": "Merci. And in Japanese: 東京はどこ?"},
                          {"role": "assistant", "content": "東京は日本の首都です。"}]),
    ("prompt", [{"role": "user", "content": "Write a haiku about rain."}]),
    ("prompt_system", [S, {"role": "user", "content": "Is 2 + 2 = 4?"}]),
    ("prompt_after_turn", [{"role": "user", "content": "Hi!"}, {"role": "assistant", "content": "Hello! How can I help?"},
                           {"role": "user", "content": "Tell me a joke about cats."}]),
]


def build_folder(name, base, controls, special, template):
    folder = OUT / name
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    tok = Tokenizer.from_file(str(BASES / base / "tokenizer.json"))
    if controls:
        tok.add_special_tokens([AddedToken(c, special=True, normalized=False) for c in controls])
    tok.save(str(folder / "tokenizer.json"), pretty=False)
    config = {"tokenizer_class": "PreTrainedTokenizerFast", "clean_up_tokenization_spaces": False, **special,
              "chat_template": template}
    (folder / "tokenizer_config.json").write_text(json.dumps(config, indent=2, ensure_ascii=False) + "\n")
    return folder


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    for name, (base, controls, special, template) in FAMILIES.items():
        folder = build_folder(name, base, controls, special, template)
        hf = AutoTokenizer.from_pretrained(str(folder))
        cases = []
        for label, messages in CONVERSATIONS:
            prompt = messages[-1]["role"] == "user"
            try:
                ids = hf.apply_chat_template(messages, tokenize=True, add_generation_prompt=prompt)
            except Exception as e:  # a template that refuses a system message (Mistral v0.1)
                print(f"{name}/{label}: transformers refuses it: {e}", file=sys.stderr)
                continue
            ids = ids["input_ids"] if isinstance(ids, dict) or hasattr(ids, "keys") else ids
            text = hf.apply_chat_template(messages, tokenize=False, add_generation_prompt=prompt)
            cases.append({"name": label, "messages": messages, "generation_prompt": prompt, "text": text, "ids": list(ids)})
        expected = {"transformers": transformers.__version__, "family": name.split("_")[0], "cases": cases}
        (folder / "expected.json").write_text(json.dumps(expected, indent=1, ensure_ascii=False) + "\n")
        print(f"{name}: {len(cases)} conversations")


if __name__ == "__main__":
    main()
