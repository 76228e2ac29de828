#!/usr/bin/env python3
"""PyTorch side of the GPT quality comparison (bench/gpt_quality.mjs).

Replays the runs dlmath made in wasm with PyTorch 1.13 on one CPU thread:
the same network (tests/fixtures/train_gpt_torch.py's Gpt: nn.Embedding,
nn.MultiheadAttention with causal and key-padding masks, nn.LayerNorm,
GELU(tanh), the tied head, a linear classifier on the last real position),
the same initial weights, the same batches in the same order, AdamW with
decay on matrices, warmup + cosine and clipping by norm 1. What differs is
only the arithmetic of the two engines.

    OMP_NUM_THREADS=1 /usr/bin/python3 bench/gpt_quality.py MANIFEST.json

MANIFEST.json (written by gpt_quality.mjs) names a float32 blob and, per
run, the model's dimensions, optimizer settings, initial weights, batches
and validation data as slices of it. A run "pretrained_from" another starts
from that run's final weights as trained here (its head from the initial
weights), so fine-tuning from pretrained compares whole pipelines. Prints one JSON object: per run, the
validation metrics at each evaluation step.
"""
import json
import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures"))
from train_gpt_torch import IGNORE, Gpt, adamw_groups, loss_of  # noqa: E402
from train_torch import warmup_cosine  # noqa: E402


def evaluate(net, block, x, y, classes):
    net.eval()
    with torch.no_grad():
        out = net(x)
    net.train()
    logits = out[0] if classes else out
    vocab = logits.shape[-1]
    lm = F.cross_entropy(logits.reshape(-1, vocab), y[:, :block].reshape(-1).long(), ignore_index=IGNORE)
    r = {"lm_loss": float(lm)}
    if classes:
        label = y[:, block].long()
        r["accuracy"] = float((out[1].argmax(1) == label).float().mean())
        r["loss"] = float(F.cross_entropy(out[1], label))
    return r


def replay(run, tensor, finals):
    d = run["dims"]
    classes = d.get("classes", 0)
    torch.manual_seed(0)  # every weight is overwritten below
    net = Gpt(d["vocab"], d["block"], d["dim"], d["heads"], d["layers"], d["hidden"], classes=classes,
              lm_weight=d.get("lm_weight", 0.0))
    init = {k: tensor(v) for k, v in run["init"].items()}
    if "pretrained_from" in run:  # this engine's own pretrained weights, the head's from init
        init.update({k: v for k, v in finals[run["pretrained_from"]].items() if k in init})
    net.load_state_dict(init, strict=True)
    o = run["optimizer"]
    opt = adamw_groups(net, o["lr"], o["weight_decay"])
    sched = torch.optim.lr_scheduler.LambdaLR(opt, warmup_cosine(o["lr"], o["warmup"], o["steps"], o["final_lr"]))
    loss_fn = loss_of(d["vocab"], d["block"], d.get("lm_weight", 0.0))
    xs, ys = tensor(run["x"]), tensor(run["y"])
    vx, vy = tensor(run["val_x"]), tensor(run["val_y"])
    batch = run["batch"]
    evals = {}
    losses = []
    for i in range(xs.shape[0] // batch):
        x, y = xs[i * batch:(i + 1) * batch], ys[i * batch:(i + 1) * batch]
        loss = loss_fn(net(x), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(net.parameters(), o["clip"])
        opt.step()
        sched.step()
        losses.append(float(loss))
        if i + 1 in run["evaluate_at"]:
            evals[str(i + 1)] = evaluate(net, d["block"], vx, vy, classes)
    finals[run["name"]] = {k: v.detach().clone() for k, v in net.state_dict().items()}
    return {"evaluations": evals, "first_losses": losses[:5]}


def main():
    torch.set_num_threads(1)
    with open(sys.argv[1]) as f:
        manifest = json.load(f)
    with open(os.path.join(os.path.dirname(sys.argv[1]), manifest["blob"]), "rb") as f:
        blob = torch.frombuffer(bytearray(f.read()), dtype=torch.float32)

    def tensor(ref):
        n = 1
        for s in ref["shape"]:
            n *= s
        return blob[ref["offset"]:ref["offset"] + n].reshape(ref["shape"]).clone()

    out = {"torch": torch.__version__, "threads": torch.get_num_threads(), "runs": {}}
    finals = {}
    for run in manifest["runs"]:
        out["runs"][run["name"]] = replay(run, tensor, finals)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
