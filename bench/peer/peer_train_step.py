"""The PyTorch peer of `vista bench train`: the same configuration (../shared/bench/llava-bench-small.json
layout) as Hugging Face transformers' LlavaForConditionalGeneration on PyTorch, trained one step at a
time with CE + VISTA (l2, written from the method spec: e_t = mean_d (s - x_t)^2, weights t/m,
mean over text tokens and samples), AdamW and gradient clipping. Prints one JSON line.

    python peer_train_step.py --config FILE [--threads N] [--paired]

--paired: after the warm-up steps it prints {"ready": true} and then reads one command a line from
stdin: `step` runs one timed step and prints {"step_s": ...}; `end` prints the summary line and
exits. `vista bench train --peer` drives it so, alternating one step of its own with one of the peer's.
"""
import argparse
import json
import resource
import statistics
import sys
import time

import torch
import transformers
from transformers import CLIPVisionConfig, LlamaConfig, LlavaConfig, LlavaForConditionalGeneration

IMAGE_TOKEN = 1  # ids are drawn from [3, vocab), as vista's bench draws them, so 1 marks image positions only


def build(cfg):
    v, l = cfg["vision"], cfg["llm"]
    vision = CLIPVisionConfig(image_size=v["image_size"], patch_size=v["patch_size"], hidden_size=v["hidden_size"],
                              intermediate_size=v["intermediate_size"], num_hidden_layers=v["num_hidden_layers"],
                              num_attention_heads=v["num_attention_heads"], hidden_act=v["hidden_act"])
    text = LlamaConfig(vocab_size=l["vocab_size"], hidden_size=l["hidden_size"], intermediate_size=l["intermediate_size"],
                       num_hidden_layers=l["num_hidden_layers"], num_attention_heads=l["num_attention_heads"],
                       num_key_value_heads=l["num_key_value_heads"], rope_theta=l["rope_theta"],
                       rms_norm_eps=l["rms_norm_eps"], tie_word_embeddings=l["tie_word_embeddings"])
    if cfg["projector"] != "mlp2x_gelu" or cfg["select_feature"] != "patch":
        sys.exit("peer: only the mlp2x_gelu projector and 'patch' features are set up")
    config = LlavaConfig(vision_config=vision, text_config=text, image_token_index=IMAGE_TOKEN,
                         vision_feature_layer=cfg["select_layer"], vision_feature_select_strategy="default",
                         projector_hidden_act="gelu")
    torch.manual_seed(0)
    model = LlavaForConditionalGeneration(config)
    model.train()
    for name, p in model.named_parameters():
        p.requires_grad_("vision_tower" not in name)
    return model


def batch(cfg):
    b, l, v = cfg["batch"], cfg["llm"], cfg["vision"]
    patches = (v["image_size"] // v["patch_size"]) ** 2
    before, after, answer = b["text_tokens_before_image"], b["text_tokens_after_image"], b["answer_tokens"]
    length = before + patches + after + answer
    ids = torch.randint(3, l["vocab_size"], (b["samples"], length))
    ids[:, before:before + patches] = IMAGE_TOKEN
    labels = torch.full_like(ids, -100)
    labels[:, -answer:] = ids[:, -answer:]
    pixels = torch.randn(b["samples"], 3, v["image_size"], v["image_size"])
    return ids, labels, pixels, before + patches - 1


def vista_l2(hidden_BLD, embeds_BLD, text_mask_BL, last_image):
    """Method spec section 4.6: per sample, s = final-norm hidden state at the last image token."""
    losses = []
    for b in range(hidden_BLD.shape[0]):
        s = hidden_BLD[b, last_image].float()
        x = embeds_BLD[b][text_mask_BL[b]].float()
        m = x.shape[0]
        w = torch.arange(1, m + 1, dtype=torch.float32) / m
        losses.append((w * ((s - x) ** 2).mean(-1)).mean())
    return torch.stack(losses).mean()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--config", required=True)
    parser.add_argument("--threads", type=int, default=0)
    parser.add_argument("--paired", action="store_true")
    args = parser.parse_args()
    cfg = json.load(open(args.config))
    threads = args.threads or cfg.get("threads", 0)
    if threads:
        torch.set_num_threads(threads)
    model = build(cfg)
    ids, labels, pixels, last_image = batch(cfg)
    text_mask = ids != IMAGE_TOKEN
    o = cfg["optimizer"]
    trainable = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(trainable, lr=o["lr"], betas=tuple(o["betas"]), eps=o["eps"],
                                  weight_decay=o["weight_decay"])
    embed = model.get_input_embeddings()

    def step():
        optimizer.zero_grad()
        out = model(input_ids=ids, pixel_values=pixels, labels=labels, output_hidden_states=True)
        loss = out.loss + vista_l2(out.hidden_states[-1], embed(ids.clamp(min=0)), text_mask, last_image)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(trainable, o["clip_grad_norm"])
        optimizer.step()
        if not torch.isfinite(loss):
            sys.exit("peer: non-finite loss")

    for _ in range(cfg["steps"]["warmup"]):
        step()
    times, user, system = [], 0.0, 0.0

    def timed_step():
        nonlocal user, system
        before = resource.getrusage(resource.RUSAGE_SELF)
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
        after = resource.getrusage(resource.RUSAGE_SELF)
        user += after.ru_utime - before.ru_utime
        system += after.ru_stime - before.ru_stime
        return times[-1]

    if args.paired:
        print(json.dumps({"ready": True}), flush=True)
        for line in iter(sys.stdin.readline, ""):
            command = line.strip()
            if command == "end":
                break
            if command != "step":
                sys.exit(f"peer: unknown command {command!r} (expected step or end)")
            print(json.dumps({"step_s": timed_step()}), flush=True)
        if not times:
            sys.exit("peer: ended before any timed step")
    else:
        for _ in range(cfg["steps"]["timed"]):
            timed_step()
    tokens = ids.numel()
    print(json.dumps({
        "peer": f"transformers {transformers.__version__} LlavaForConditionalGeneration, torch {torch.__version__}",
        "threads": torch.get_num_threads(),
        "step_s_median": statistics.median(times),
        "step_s": times,
        "tokens_per_s": tokens / statistics.median(times),
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
        "user_s_per_step": user / len(times),
        "sys_s_per_step": system / len(times),
    }), flush=True)


if __name__ == "__main__":
    main()
