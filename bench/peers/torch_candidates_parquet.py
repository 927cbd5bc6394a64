#!/usr/bin/python3
"""Reference PyTorch trainer of watchnext's candidate tower from a Parquet export: reads the
training examples and validation queries that `watchnext export examples --format parquet` wrote,
builds the same network from the schema in the files' key-value metadata, trains it, and writes a
watchnext model directory (manifest.json + tensors.safetensors) that `watchnext evaluate` loads.

The network, as watchnext builds it (src/models/candidates/network.ts, input-layer.ts):
- every table [rows, dim] ~ N(0, embeddingInitStd^2) with row 0 (out of vocabulary) kept at zero;
  bags are the mean of their rows (empty bag = 0) or, for weighted bags, the weighted sum;
  features sharing a slot are summed; slots in first-appearance order, then the dense columns;
- dropout on the input and after each hidden layer; Linear layers with W stored [in, out],
  He-normal init for ReLU layers and N(0, 1/fanIn) for a linear last layer, zero biases;
- item output embeddings (own table ~ N(0, embeddingInitStd^2), or tied to the item input table)
  and an optional item bias; full softmax cross-entropy;
- Adam on the dense parameters, lazy Adam on the embedding tables (torch's SparseAdam on sparse
  embedding gradients) except a tied item table, which the full softmax gives a gradient in every
  row at every step (lazy Adam over all rows = Adam: dense gradients, Adam at the embedding lr),
  lr * lrDecay^(epoch-1), early stopping on validation NDCG@10 (seen items
  filtered, ties counted against the target) with the best epoch's weights kept.
The sampled softmax, weight decay and the embedding L2 are not implemented here: a config that
asks for them is refused.

Parquet: pyarrow when it is installed, else the bundled reader (parquet_reader.py).

Usage: /usr/bin/python3 bench/peers/torch_candidates_parquet.py --examples <export dir> --out <model dir>
           [--seed N] [--epochs N] [--max-steps N] [--threads N]
Prints one JSON line: {"epochs": ..., "best_epoch": ..., "valid": {"HR@10": ..., "NDCG@10": ...}, ...}.
"""

import argparse
import hashlib
import json
import math
import os
import shutil
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

TRAIN_FILE = "candidate_train.parquet"
VALID_FILE = "candidate_valid.parquet"
TENSORS_FILE = "tensors.safetensors"
MANIFEST_FILE = "manifest.json"


def fail(message):
    print(f"torch_candidates_parquet: {message}", file=sys.stderr, flush=True)
    sys.exit(1)


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--examples", required=True, help="directory written by `watchnext export examples`")
    p.add_argument("--out", required=True, help="model directory to write (replaced)")
    p.add_argument("--seed", type=int, default=1, help="seed of initialization, shuffling and dropout")
    p.add_argument("--epochs", type=int, default=None, help="override train.epochs of the exported config")
    p.add_argument("--max-steps", type=int, default=None, help="stop after this many steps in all (a short run)")
    p.add_argument("--threads", type=int, default=1, help="torch.set_num_threads")
    return p.parse_args()


def read_table(path):
    """(num_rows, metadata, columns): flat columns as numpy arrays, lists as (offsets, values)."""
    try:
        import pyarrow.parquet as pq  # noqa: F401 (preferred when installed)
    except ImportError:
        pq = None
    if pq is None:
        from parquet_reader import read_parquet

        t = read_parquet(path)
        cols = {k: ((v.offsets, v.values) if hasattr(v, "offsets") else v) for k, v in t.columns.items()}
        return t.num_rows, t.metadata, cols
    import pyarrow as pa

    f = pq.ParquetFile(path)
    meta = {k.decode(): v.decode() for k, v in (f.metadata.metadata or {}).items()}
    table = f.read()
    cols = {}
    for name in table.column_names:
        col = table.column(name).combine_chunks()
        if pa.types.is_list(col.type):
            cols[name] = (np.asarray(col.offsets, dtype=np.int64), col.values.to_numpy(zero_copy_only=False))
        else:
            cols[name] = col.to_numpy(zero_copy_only=False)
    return table.num_rows, meta, cols


def gather_lists(offsets, values, rows):
    """The lists of `rows` as (flat values, per-row start offsets) for embedding_bag."""
    starts = offsets[rows]
    lengths = offsets[rows + 1] - starts
    bag_offsets = np.zeros(len(rows), dtype=np.int64)
    np.cumsum(lengths[:-1], out=bag_offsets[1:])
    total = int(lengths.sum())
    flat = np.repeat(starts - bag_offsets, lengths) + np.arange(total, dtype=np.int64)
    return values[flat], bag_offsets


def main():
    args = parse_args()
    try:
        import torch
        import torch.nn.functional as F
    except Exception as error:
        fail(f"torch is not importable by {sys.executable} ({error}); apt-get install python3-torch libopenblas0-pthread")
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)

    started = time.time()
    n_train, meta, train = read_table(os.path.join(args.examples, TRAIN_FILE))
    n_valid, _, valid = read_table(os.path.join(args.examples, VALID_FILE))
    if "watchnext.schema" not in meta or "watchnext.model_manifest" not in meta:
        fail(f"{args.examples}: the Parquet metadata has no watchnext.schema / watchnext.model_manifest")
    schema = json.loads(meta["watchnext.schema"])
    if schema.get("format") != "watchnext-examples" or schema.get("version") != 1:
        fail(f"{args.examples}: format {schema.get('format')} version {schema.get('version')} is not watchnext-examples 1")
    config = schema["config"]
    net_cfg, train_cfg = config["network"], config["train"]
    num_items = schema["numItems"]
    softmax = train_cfg["softmax"]
    if softmax == "sampled" or (softmax == "auto" and num_items > train_cfg["fullSoftmaxMaxItems"]):
        fail("the config trains a sampled softmax: this reference script implements the full softmax only")
    if train_cfg["weightDecay"] != 0 or train_cfg["embeddingL2"] != 0:
        fail("train.weightDecay / train.embeddingL2 are not implemented by this reference script")
    if schema["protocol"] != "loo":
        fail(f"validation under protocol {schema['protocol']} is not implemented here (loo only)")
    read_seconds = time.time() - started

    features = schema["features"]
    weighted = set(schema["weightedBags"])
    tensors_spec = schema["tensors"]
    std = net_cfg["embeddingInitStd"]

    # Parameters, named as in the model file.
    params = {}
    tables = {}
    for t in features["tables"]:
        w = torch.randn(t["rows"], t["dim"]) * std
        w[0] = 0
        tables[t["name"]] = torch.nn.Parameter(w)
        params[f"input.{t['name']}"] = tables[t["name"]]
    layer_names = sorted({k.rsplit(".", 1)[0] for k in tensors_spec if k.startswith("tower.")}, key=lambda s: int(s.split(".")[1]))
    layers = []
    for i, name in enumerate(layer_names):
        fan_in, fan_out = tensors_spec[f"{name}.weight"]
        last = i == len(layer_names) - 1
        relu = not last or net_cfg["finalRelu"]
        w = torch.nn.Parameter(torch.randn(fan_in, fan_out) * math.sqrt((2.0 if relu else 1.0) / fan_in))
        b = torch.nn.Parameter(torch.zeros(fan_out))
        params[f"{name}.weight"], params[f"{name}.bias"] = w, b
        layers.append((w, b, relu))
    dim = layers[-1][0].shape[1]
    first_row = schema["outputFirstRow"]
    tied = "item" if net_cfg["tieOutput"] else None
    if tied is not None:
        output = tables[tied]
    else:
        output = torch.nn.Parameter(torch.randn(num_items, dim) * std)
        params["output.embeddings"] = output
    bias = None
    if net_cfg["itemBias"]:
        bias = torch.nn.Parameter(torch.zeros(num_items))
        params["output.bias"] = bias
    for name, shape in tensors_spec.items():
        if name not in params or list(params[name].shape) != shape:
            fail(f"tensor {name}: the network built here does not have shape {shape}")

    # The input layout: slots in first-appearance order, then the continuous columns.
    slots, order = {}, []
    for f in features["features"]:
        if f["kind"] == "continuous":
            continue
        key = f.get("slot") or f"#{f['name']}"
        if key not in slots:
            slots[key] = []
            order.append(key)
        slots[key].append(f)
    dense_cols = [c for f in features["features"] if f["kind"] == "continuous" for c in range(f["offset"], f["offset"] + f["width"])]
    dense_width = features["denseWidth"]

    def as_rows(cols, n):
        """Columns with lists as (offsets, values) and the dense block as [n, width]."""
        out = dict(cols)
        if dense_width > 0:
            off, vals = cols["dense"]
            if not np.all(np.diff(off) == dense_width):
                fail("column dense: every row must hold denseWidth values")
            out["dense"] = vals.reshape(n, dense_width)[:, dense_cols]
        return out

    train = as_rows(train, n_train)
    valid = as_rows(valid, n_valid)

    def user_vectors(cols, rows, training):
        parts = []
        for key in order:
            total = None
            for f in slots[key]:
                table = tables[f["table"]]
                sparse = f["table"] != tied
                if f["kind"] == "categorical":
                    ids = torch.from_numpy(cols[f["name"]][rows].astype(np.int64))
                    v = F.embedding(ids, table, sparse=sparse)
                else:
                    off, vals = cols[f["name"]]
                    flat, bag_off = gather_lists(off, vals, rows)
                    ids = torch.from_numpy(flat.astype(np.int64))
                    offsets = torch.from_numpy(bag_off)
                    if f["name"] in weighted:
                        woff, wvals = cols[f"{f['name']}_weights"]
                        wflat, _ = gather_lists(woff, wvals, rows)
                        v = F.embedding_bag(ids, table, offsets, mode="sum", sparse=sparse, per_sample_weights=torch.from_numpy(wflat.astype(np.float32)))
                    else:
                        v = F.embedding_bag(ids, table, offsets, mode="mean", sparse=sparse)
                total = v if total is None else total + v
            parts.append(total)
        if dense_width > 0:
            parts.append(torch.from_numpy(np.ascontiguousarray(cols["dense"][rows])))
        h = torch.cat(parts, 1)
        h = F.dropout(h, net_cfg["dropout"], training)
        for i, (w, b, relu) in enumerate(layers):
            h = h @ w + b
            if relu:
                h = torch.relu(h)
            if i < len(layers) - 1:
                h = F.dropout(h, net_cfg["dropout"], training)
        return h

    def item_matrix():
        return output[first_row : first_row + num_items]

    def logits(u):
        s = u @ item_matrix().t()
        return s + bias if bias is not None else s

    valid_targets = valid["targets"]
    if not np.all(np.diff(valid_targets[0]) == 1):
        fail("column targets: loo validation needs exactly one target per query")
    targets = torch.from_numpy(valid_targets[1].astype(np.int64))
    h_off, h_items = valid["history"]

    def validate():
        with torch.no_grad():
            rows = np.arange(n_valid)
            scores = logits(user_vectors(valid, rows, False))
            target_scores = scores[torch.arange(n_valid), targets].clone()
            hist_rows = np.repeat(rows, np.diff(h_off))
            scores[torch.from_numpy(hist_rows), torch.from_numpy(h_items.astype(np.int64))] = -math.inf
            # Ties count against the target: rank = 1 + items scoring >= it, the target excluded.
            rank = (scores >= target_scores[:, None]).sum(1)
            target_seen = scores[torch.arange(n_valid), targets] == -math.inf
            rank = torch.where(target_seen, torch.full_like(rank, num_items + 1), rank)
            hit = (rank <= 10).double()
            ndcg = torch.where(rank <= 10, 1.0 / torch.log2(rank.double() + 1), torch.zeros_like(hit))
            return {"HR@10": float(hit.mean()), "NDCG@10": float(ndcg.mean())}

    tied_key = f"input.{tied}" if tied is not None else None
    dense_params = [p for n, p in params.items() if not n.startswith("input.")]
    sparse_params = [p for n, p in params.items() if n.startswith("input.") and n != tied_key]
    lr = train_cfg["lr"]
    emb_lr = train_cfg["embeddingLr"] if train_cfg["embeddingLr"] is not None else lr
    betas = (train_cfg["beta1"], train_cfg["beta2"])
    groups = [{"params": dense_params, "base_lr": lr}]
    if tied is not None:
        groups.append({"params": [params[tied_key]], "base_lr": emb_lr})
    adam = torch.optim.Adam(groups, lr=lr, betas=betas, eps=train_cfg["eps"])
    sparse_adam = torch.optim.SparseAdam(sparse_params, lr=emb_lr, betas=betas, eps=train_cfg["eps"])

    epochs = args.epochs if args.epochs is not None else train_cfg["epochs"]
    batch_size = train_cfg["batchSize"]
    patience = train_cfg["patience"]
    epoch_col = train["epoch"]
    exported_epochs = int(epoch_col.max())
    labels_all = train["label"].astype(np.int64)
    best, best_epoch, best_state, since_best = -1.0, 0, None, 0
    history = []
    steps = 0
    stop = "max-epochs"
    train_started = time.time()
    for epoch in range(1, epochs + 1):
        scale = train_cfg["lrDecay"] ** (epoch - 1)
        for g in adam.param_groups:
            g["lr"] = g["base_lr"] * scale
        for g in sparse_adam.param_groups:
            g["lr"] = emb_lr * scale
        # Epoch e trains on the export's sample of epoch ((e - 1) mod exported) + 1.
        rows_of_epoch = np.flatnonzero(epoch_col == (epoch - 1) % exported_epochs + 1)
        perm = rows_of_epoch[rng.permutation(len(rows_of_epoch))]
        loss_sum, loss_n = 0.0, 0
        for s in range(0, len(perm), batch_size):
            rows = perm[s : s + batch_size]
            u = user_vectors(train, rows, True)
            loss = F.cross_entropy(logits(u), torch.from_numpy(labels_all[rows]))
            adam.zero_grad()
            sparse_adam.zero_grad()
            loss.backward()
            adam.step()
            sparse_adam.step()
            with torch.no_grad():
                for t in tables.values():
                    t[0] = 0
            loss_sum += float(loss) * len(rows)
            loss_n += len(rows)
            steps += 1
            if args.max_steps is not None and steps >= args.max_steps:
                break
        v = validate()
        history.append({"epoch": epoch, "loss": loss_sum / max(1, loss_n), **v})
        print(json.dumps({"epoch": epoch, "loss": round(loss_sum / max(1, loss_n), 5), **v}), file=sys.stderr, flush=True)
        if v["NDCG@10"] > best:
            best, best_epoch, since_best = v["NDCG@10"], epoch, 0
            best_state = {n: p.detach().clone() for n, p in params.items()}
            best_valid = v
        else:
            since_best += 1
        if args.max_steps is not None and steps >= args.max_steps:
            stop = "max-steps"
            break
        if since_best >= patience:
            stop = "early-stop"
            break
    train_seconds = time.time() - train_started

    write_model(args.out, meta["watchnext.model_manifest"], {n: best_state[n] for n in tensors_spec})
    print(
        json.dumps(
            {
                "epochs": len(history),
                "best_epoch": best_epoch,
                "stop": stop,
                "steps": steps,
                "valid": best_valid,
                "train_seconds": round(train_seconds, 2),
                "read_seconds": round(read_seconds, 2),
                "history": history,
            }
        ),
        flush=True,
    )


def write_model(out, manifest_template, tensors):
    """Writes the safetensors file and the manifest (checksums as src/engine/model-file computes them)."""
    header = {"__metadata__": {"format": "pt", "producer": "bench/peers/torch_candidates_parquet.py"}}
    blobs = []
    offset = 0
    for name, t in tensors.items():
        data = t.contiguous().numpy().astype("<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    head = json.dumps(header, separators=(",", ":")).encode()
    head += b" " * (-len(head) % 8)
    body = len(head).to_bytes(8, "little") + head + b"".join(blobs)
    tensors_meta = {"file": TENSORS_FILE, "bytes": len(body), "sha256": hashlib.sha256(body).hexdigest()}
    # The template is the compact JSON of the manifest up to its last field; the checksum is the
    # SHA-256 of the compact JSON without manifestSha256 (JSON.stringify's form, which this is).
    compact = manifest_template + ',"tensors":' + json.dumps(tensors_meta, separators=(",", ":")) + "}"
    sha = hashlib.sha256(compact.encode()).hexdigest()
    manifest = compact[:-1] + ',"manifestSha256":"' + sha + '"}\n'
    parent = os.path.dirname(os.path.abspath(out))
    os.makedirs(parent, exist_ok=True)
    stage = os.path.join(parent, f".{os.path.basename(out)}.tmp-{os.getpid()}")
    os.makedirs(stage)
    for name, content in ((TENSORS_FILE, body), (MANIFEST_FILE, manifest.encode())):
        with open(os.path.join(stage, name), "wb") as f:
            f.write(content)
            f.flush()
            os.fsync(f.fileno())
    if os.path.exists(out):
        old = os.path.join(parent, f".{os.path.basename(out)}.old-{os.getpid()}")
        os.rename(out, old)
        os.rename(stage, out)
        shutil.rmtree(old)
    else:
        os.rename(stage, out)
    fd = os.open(parent, os.O_RDONLY)
    os.fsync(fd)
    os.close(fd)


if __name__ == "__main__":
    main()
