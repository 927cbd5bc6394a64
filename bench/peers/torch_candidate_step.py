#!/usr/bin/python3
"""PyTorch peer of the candidate-generator training benchmark (bench/): the same network and step
as watchnext's, timed in examples per second, so the engine's speed can be read against PyTorch.

Configuration (the paper's candidate tower at benchmark size): 20,000 items; batch 512; a bag of
<= 50 (mean 30) watched items embedded in 64-d and averaged (EmbeddingBag, mean); 4 demographic
embeddings of 8-d; the example age; concatenated (97) -> 1024 -> 512 -> 256 ReLU = user vector;
256-d item output embeddings; sampled softmax over 2,000 negatives shared by the batch, drawn from
unigram^0.75, with logQ correction and accidental-hit masking; Adam, lr 1e-3.

A timed step = negative sampling + forward + backward + optimizer update. Synthetic batches are
generated before timing and cycled. Threads: torch intra-op threads from --torch-threads; OpenBLAS
threads from the OPENBLAS_NUM_THREADS environment variable, which the caller must set.

Driven by bench/train.ts one timing window at a time, so its windows interleave with watchnext's:
after the warm-up it prints one JSON line {"ready": true, "config": {...}, "blas": ..., ...}; then
each stdin line "window N" is answered by {"steps": N, "seconds": s, "examples_per_s": x,
"loss": l}; end of input exits. Failures exit non-zero with the reason on stderr (and a JSON
{"error": ...} line on stdout): torch not importable, OPENBLAS_NUM_THREADS unset, or torch
multiplying through a BLAS other than OpenBLAS (Debian's python3-torch silently falls back to
the reference BLAS, ~30x slower, when libopenblas0-pthread is missing; a ratio against that
would be meaningless).

Usage: OPENBLAS_NUM_THREADS=2 /usr/bin/python3 bench/peers/torch_candidate_step.py \
           --warmup 5 --torch-threads 1 <<< "window 30"
"""

import argparse
import ctypes
import json
import os
import sys
import time

NUM_ITEMS = 20_000
BATCH = 512
BAG_MIN, BAG_MAX = 10, 50  # uniform lengths: mean 30, at most 50
ITEM_DIM = 64
DEMOGRAPHICS = (3, 8, 21, 100)  # vocabulary sizes (gender, age bucket, occupation, region)
DEMO_DIM = 8
TOWER = (1024, 512, 256)
NUM_NEG = 2_000
SAMPLING_ALPHA = 0.75
LR = 1e-3
DATA_BATCHES = 8


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--warmup", type=int, default=5, help="untimed steps first")
    p.add_argument("--torch-threads", type=int, default=1, help="torch.set_num_threads")
    p.add_argument(
        "--sparse",
        choices=("auto", "yes", "no"),
        default="auto",
        help="sparse embedding gradients with SparseAdam (auto = yes: measured 1.6x faster than dense)",
    )
    p.add_argument(
        "--autocast",
        choices=("off", "bf16"),
        default="off",
        help="bf16: forward under torch.autocast('cpu', torch.bfloat16) (oneDNN bf16 matmuls), loss in fp32",
    )
    p.add_argument("--seed", type=int, default=1)
    return p.parse_args()


def fail(message, code):
    """Reports a failure on both channels and exits non-zero: the benchmark must not go on."""
    print(json.dumps({"error": message}), flush=True)
    print(f"torch_candidate_step: {message}", file=sys.stderr, flush=True)
    sys.exit(code)


def mapped_blas_libraries():
    """The BLAS/LAPACK shared libraries this process has mapped (torch's GEMMs go through them)."""
    with open("/proc/self/maps", encoding="utf-8") as maps:
        paths = {line.split()[-1] for line in maps if "blas" in line.lower() or "lapack" in line.lower()}
    return sorted(p for p in paths if p.startswith("/"))


class _DlInfo(ctypes.Structure):
    _fields_ = [
        ("dli_fname", ctypes.c_char_p),
        ("dli_fbase", ctypes.c_void_p),
        ("dli_sname", ctypes.c_char_p),
        ("dli_saddr", ctypes.c_void_p),
    ]


def sgemm_library():
    """The shared library whose sgemm_ torch's CPU library binds to (None if it cannot be told).

    Mapping libopenblas is not enough: with the reference libblas.so.3 first on the search path,
    OpenBLAS's liblapack still maps libopenblas while every sgemm_ goes to the reference BLAS. So
    this resolves sgemm_ the way libtorch_cpu's own references resolve (its dependency scope) and
    asks dladdr which file holds it."""
    with open("/proc/self/maps", encoding="utf-8") as maps:
        torch_libs = sorted({line.split()[-1] for line in maps if "/libtorch_cpu.so" in line})
    if not torch_libs:
        return None
    try:
        address = ctypes.cast(ctypes.CDLL(torch_libs[0]).sgemm_, ctypes.c_void_p).value
        libdl = ctypes.CDLL(None)
        libdl.dladdr.argtypes = [ctypes.c_void_p, ctypes.POINTER(_DlInfo)]
        info = _DlInfo()
        if not libdl.dladdr(address, ctypes.byref(info)) or not info.dli_fname:
            return None
        return os.path.realpath(info.dli_fname.decode())
    except (OSError, AttributeError):
        return None


def openblas_threads(paths):
    """OpenBLAS's own thread count, asked from the mapped library (None if it cannot be asked)."""
    for path in paths:
        if "libopenblas" in os.path.basename(path):
            try:
                return int(ctypes.CDLL(path).openblas_get_num_threads())
            except (OSError, AttributeError):
                return None
    return None


def main():
    args = parse_args()
    requested_blas_threads = os.environ.get("OPENBLAS_NUM_THREADS")
    if not requested_blas_threads:
        fail("OPENBLAS_NUM_THREADS is not set: the caller must choose the OpenBLAS thread count", 2)
    try:
        import torch
        import torch.nn.functional as F
    except Exception as error:  # ImportError or a broken install
        fail(
            f"torch is not importable by {sys.executable} ({error}); "
            "install Debian's python3-torch and libopenblas0-pthread (apt-get install python3-torch libopenblas0-pthread)",
            2,
        )

    torch.set_num_threads(args.torch_threads)
    torch.manual_seed(args.seed)
    sparse = args.sparse != "no"
    autocast = args.autocast == "bf16"

    # Synthetic data: Zipf-like item popularity; bags, labels, demographics, example age.
    popularity = 1.0 / torch.arange(1, NUM_ITEMS + 1, dtype=torch.float64) ** 1.1
    popularity /= popularity.sum()
    batches = []
    for _ in range(DATA_BATCHES):
        lengths = torch.randint(BAG_MIN, BAG_MAX + 1, (BATCH,))
        offsets = torch.zeros(BATCH, dtype=torch.long)
        offsets[1:] = torch.cumsum(lengths, 0)[:-1]
        bag = torch.multinomial(popularity, int(lengths.sum()), replacement=True)
        labels = torch.multinomial(popularity, BATCH, replacement=True)
        demo = torch.stack([torch.randint(0, n, (BATCH,)) for n in DEMOGRAPHICS], 1)
        age = torch.rand(BATCH, 1)
        batches.append((bag, offsets, labels, demo, age))
    proposal = popularity ** SAMPLING_ALPHA
    proposal /= proposal.sum()
    log_q = torch.log(proposal).float()

    # Network.
    history = torch.nn.EmbeddingBag(NUM_ITEMS, ITEM_DIM, mode="mean", sparse=sparse)
    demo_tables = torch.nn.ModuleList(torch.nn.Embedding(n, DEMO_DIM, sparse=sparse) for n in DEMOGRAPHICS)
    widths = (ITEM_DIM + DEMO_DIM * len(DEMOGRAPHICS) + 1,) + TOWER
    tower = torch.nn.Sequential(
        *[m for i in range(len(TOWER)) for m in (torch.nn.Linear(widths[i], widths[i + 1]), torch.nn.ReLU())]
    )
    output = torch.nn.Embedding(NUM_ITEMS, TOWER[-1], sparse=sparse)
    torch.nn.init.normal_(output.weight, std=TOWER[-1] ** -0.5)
    embeddings = [history.weight, output.weight] + [t.weight for t in demo_tables]
    if sparse:
        optimizers = [torch.optim.Adam(tower.parameters(), lr=LR), torch.optim.SparseAdam(embeddings, lr=LR)]
    else:
        optimizers = [torch.optim.Adam(list(tower.parameters()) + embeddings, lr=LR)]

    def step(i):
        bag, offsets, labels, demo, age = batches[i % DATA_BATCHES]
        neg = torch.multinomial(proposal, NUM_NEG, replacement=True)
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=autocast):
            x = torch.cat([history(bag, offsets)] + [t(demo[:, j]) for j, t in enumerate(demo_tables)] + [age], 1)
            user = tower(x)
            true_logit = (user * output(labels)).sum(1, keepdim=True) - log_q[labels].unsqueeze(1)
            neg_logits = user @ output(neg).t() - log_q[neg]
            neg_logits = neg_logits.masked_fill(neg.unsqueeze(0) == labels.unsqueeze(1), float("-inf"))
            logits = torch.cat([true_logit, neg_logits], 1).float()
        loss = F.cross_entropy(logits, torch.zeros(BATCH, dtype=torch.long))
        for opt in optimizers:
            opt.zero_grad(set_to_none=True)
        loss.backward()
        for opt in optimizers:
            opt.step()
        return loss.item()

    for i in range(args.warmup):
        step(i)

    blas = mapped_blas_libraries()
    sgemm = sgemm_library()
    # Without sgemm_'s provider, accept only a process with OpenBLAS mapped and no other libblas.
    foreign = [p for p in blas if os.path.basename(p).startswith("libblas") and "openblas" not in p]
    openblas = ("openblas" in sgemm) if sgemm else (any("libopenblas" in p for p in blas) and not foreign)
    if not openblas:
        fail(
            f"torch does not multiply through OpenBLAS (sgemm_ from {sgemm or 'unknown'}; mapped BLAS "
            f"libraries: {', '.join(blas) or 'none'}); refusing to report a ratio against it. "
            "Install OpenBLAS: apt-get install libopenblas0-pthread",
            3,
        )
    blas_threads = openblas_threads(blas)
    if blas_threads is not None and str(blas_threads) != requested_blas_threads:
        fail(f"OpenBLAS runs {blas_threads} threads, but OPENBLAS_NUM_THREADS={requested_blas_threads}", 3)
    config = {
        "num_items": NUM_ITEMS,
        "batch": BATCH,
        "bag_min": BAG_MIN,
        "bag_max": BAG_MAX,
        "item_dim": ITEM_DIM,
        "demographics": list(DEMOGRAPHICS),
        "demo_dim": DEMO_DIM,
        "tower": list(TOWER),
        "num_negatives": NUM_NEG,
        "sampling_alpha": SAMPLING_ALPHA,
        "lr": LR,
        "data_batches": DATA_BATCHES,
    }
    print(
        json.dumps(
            {
                "ready": True,
                "config": config,
                "torch_version": torch.__version__,
                "torch_threads": torch.get_num_threads(),
                "openblas_threads": blas_threads,
                "sparse_grads": sparse,
                "autocast": args.autocast,
                "warmup": args.warmup,
                "blas": blas,
                "sgemm": sgemm,
            }
        ),
        flush=True,
    )

    done = args.warmup
    for line in sys.stdin:
        words = line.split()
        if len(words) != 2 or words[0] != "window" or not words[1].isdigit() or int(words[1]) < 1:
            fail(f"expected a command 'window N' (N >= 1), got {line.strip()!r}", 2)
        steps = int(words[1])
        start = time.perf_counter()
        loss = float("nan")
        for i in range(steps):
            loss = step(done + i)
        seconds = time.perf_counter() - start
        done += steps
        print(
            json.dumps(
                {"steps": steps, "seconds": seconds, "examples_per_s": steps * BATCH / seconds, "loss": loss}
            ),
            flush=True,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
