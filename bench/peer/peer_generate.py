"""The PyTorch peer of `vista bench generate`: the same model (vista's export in the llava-hf layout)
and the same prompts and pixels (vista's, in a safetensors file) through Hugging Face transformers'
LlavaForConditionalGeneration.generate, greedy, every request to exactly --max-tokens new tokens
(no end-of-sequence stop), one request at a time. Prints one JSON line with the tokens it made.

    python peer_generate.py --model HF_DIR --inputs FILE --max-tokens N [--threads N]

FILE holds input_ids.<i> [L] int64 with -200 where the image goes and pixel_values.<i> [3, H, W].
"""
import argparse
import json
import resource
import statistics
import time

import torch
import transformers
from safetensors.torch import load_file
from transformers import LlavaForConditionalGeneration

IMAGE_PLACEHOLDER = -200


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", required=True)
    parser.add_argument("--inputs", required=True)
    parser.add_argument("--max-tokens", type=int, required=True)
    parser.add_argument("--threads", type=int, default=0)
    args = parser.parse_args()
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    torch.set_grad_enabled(False)
    model = LlavaForConditionalGeneration.from_pretrained(args.model, dtype=torch.float32).eval()
    config = model.config
    vision = config.vision_config
    image_tokens = (vision.image_size // vision.patch_size) ** 2
    if config.vision_feature_select_strategy == "full":
        image_tokens += 1
    # Run to max_tokens whatever is generated, as vista's side does (eos_token_id < 0).
    generation = model.generation_config
    generation.eos_token_id = None
    generation.pad_token_id = config.pad_token_id if config.pad_token_id is not None else 0
    generation.do_sample = False
    generation.num_beams = 1

    tensors = load_file(args.inputs)
    count = len([k for k in tensors if k.startswith("input_ids.")])
    requests = []
    for i in range(count):
        ids = tensors[f"input_ids.{i}"]
        parts = []
        for token in ids.tolist():
            parts.extend([config.image_token_index] * image_tokens if token == IMAGE_PLACEHOLDER else [token])
        requests.append((torch.tensor([parts]), tensors[f"pixel_values.{i}"].unsqueeze(0)))

    def generate(ids, pixels, tokens):
        return model.generate(input_ids=ids, attention_mask=torch.ones_like(ids), pixel_values=pixels,
                              max_new_tokens=tokens, min_new_tokens=0, generation_config=generation)

    generate(*requests[0], 2)  # warm-up, as vista's side
    latencies, outputs = [], []
    start = time.perf_counter()
    for ids, pixels in requests:
        t0 = time.perf_counter()
        out = generate(ids, pixels, args.max_tokens)
        latencies.append(time.perf_counter() - t0)
        outputs.append(out[0, ids.shape[1]:].tolist())
    seconds = time.perf_counter() - start
    tokens = sum(len(o) for o in outputs)
    print(json.dumps({
        "peer": "transformers LlavaForConditionalGeneration.generate",
        "torch": torch.__version__, "transformers": transformers.__version__, "threads": torch.get_num_threads(),
        "requests": count, "tokens": tokens, "seconds": seconds, "tokens_per_s": tokens / seconds,
        "p50_s": statistics.median(latencies), "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
        "ids": outputs}))


if __name__ == "__main__":
    main()
