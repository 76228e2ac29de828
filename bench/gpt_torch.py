#!/usr/bin/env python3
"""The PyTorch column of the GPT benchmark rows (bench/gpt.mjs): training
steps per second of configs S and M on one CPU thread, with the same
network as the PyTorch fixture (tests/fixtures/train_gpt_torch.py: GPT-1's
pre-norm blocks with nn.MultiheadAttention, a causal and a key-padding mask,
GELU(tanh), the tied token head), AdamW with decay on matrices only,
warmup + cosine and clipping by norm 1. Batches of 64 names-like sequences
(vocab 29, block 16).

    OMP_NUM_THREADS=1 /usr/bin/python3 bench/gpt_torch.py S [seconds]

Prints {"config", "steps_per_second", "forward_ms", "backward_ms",
"update_ms", "torch", "threads"}.
"""
import json
import math
import os
import sys
import time

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures"))
from train_gpt_torch import Gpt, adamw_groups, loss_of, names_like  # noqa: E402

CONFIGS = {"S": dict(width=64, depth=2, lr=3e-3), "M": dict(width=128, depth=4, lr=1e-3)}
VOCAB, BLOCK, HEADS, BATCH = 29, 16, 4, 64


def main():
    name = sys.argv[1] if len(sys.argv) > 1 else "S"
    seconds = float(sys.argv[2]) if len(sys.argv) > 2 else 3.0
    c = CONFIGS[name]
    torch.set_num_threads(1)
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(1)
    net = Gpt(VOCAB, BLOCK, c["width"], HEADS, c["depth"], 4 * c["width"])
    opt = adamw_groups(net, c["lr"], 0.01)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min(1.0, (s + 1) / 100) if s < 100 else 0.1 + 0.45 * (1 + math.cos(math.pi * min(1.0, (s - 100) / 1900))))
    loss_fn = loss_of(VOCAB, BLOCK, 0.0)
    batches = [names_like(BATCH, VOCAB, BLOCK, 0, g) for _ in range(8)]
    times = [0.0, 0.0, 0.0]

    def step(i, timed):
        x, y = batches[i % len(batches)]
        t0 = time.perf_counter()
        loss = loss_fn(net(x), y)
        t1 = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        t2 = time.perf_counter()
        torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
        opt.step()
        sched.step()
        t3 = time.perf_counter()
        if timed:
            times[0] += t1 - t0
            times[1] += t2 - t1
            times[2] += t3 - t2

    for i in range(20):  # warm-up
        step(i, False)
    n = 0
    start = time.perf_counter()
    while time.perf_counter() - start < seconds:
        step(n, True)
        n += 1
    elapsed = time.perf_counter() - start
    print(json.dumps({
        "config": name,
        "steps_per_second": n / elapsed,
        "forward_ms": 1e3 * times[0] / n,
        "backward_ms": 1e3 * times[1] / n,
        "update_ms": 1e3 * times[2] / n,
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
    }))


if __name__ == "__main__":
    main()
