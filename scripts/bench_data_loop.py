"""scripts/bench_data_loop.py TOKENIZER.model DATA.jsonl — the one-thread Python baseline of scripts/bench_data:
json + sentencepiece over every record (prompt and completion, or each message's content), printing the
seconds and the token count as JSON. What a plain Python data loader does before its first step."""
import json
import sys
import time

import sentencepiece as spm

sp = spm.SentencePieceProcessor(model_file=sys.argv[1])
start = time.perf_counter()
tokens = records = 0
with open(sys.argv[2], encoding="utf-8") as f:
    for line in f:
        r = json.loads(line)
        texts = [m["content"] for m in r["messages"]] if "messages" in r else [r.get("prompt", ""), r.get("completion", r.get("text", ""))]
        for text in texts:  # one at a time: a list would make sentencepiece start threads at every call
            tokens += len(sp.encode(text))
        records += 1
print(json.dumps({"seconds": time.perf_counter() - start, "records": records, "tokens": tokens}))
