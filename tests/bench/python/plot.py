"""Plots of one streambench run: python plot.py results.json OUT_DIR.

Writes closed_loop.png (req/s and CPU per request per variant), open_loop.png (latency
percentiles per system and rate) and drain.png (worker and sarama pipe against ConsumerPerformance).
Bars are the median over rounds, whiskers the range.
"""

import json
import statistics
import sys
from collections import OrderedDict

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def spread(values):
    values = [v for v in values if v is not None and v >= 0]
    if not values:
        return 0.0, 0.0, 0.0
    med = statistics.median(values)
    return med, med - min(values), max(values) - med


def bars(ax, labels, series, ylabel, log=False):
    """series: OrderedDict name -> list of value lists, one per label."""
    width = 0.8 / max(1, len(series))
    for i, (name, per_label) in enumerate(series.items()):
        stats = [spread(v) for v in per_label]
        xs = [x + i * width for x in range(len(labels))]
        ax.bar(xs, [s[0] for s in stats], width, yerr=[[s[1] for s in stats], [s[2] for s in stats]], capsize=3, label=name)
    ax.set_xticks([x + width * (len(series) - 1) / 2 for x in range(len(labels))])
    ax.set_xticklabels(labels, rotation=15, ha="right", fontsize=8)
    ax.set_ylabel(ylabel)
    if log:
        ax.set_yscale("log")
    ax.grid(axis="y", alpha=0.3)
    if len(series) > 1:
        ax.legend(fontsize=8)


def main(path, out):
    with open(path) as f:
        r = json.load(f)
    load = f"load avg {r['load_before']} → {r['load_after']}"

    closed = r.get("closed") or []
    if closed:
        variants = list(OrderedDict.fromkeys(c["variant"] for c in closed))
        pick = lambda key: [[c[key] for c in closed if c["variant"] == v] for v in variants]  # noqa: E731
        fig, (a, b) = plt.subplots(1, 2, figsize=(13, 5))
        bars(a, variants, OrderedDict(req_s=pick("rate")), "requests/s")
        a.set_title(f"closed loop, {r['options']['concurrency']} clients")
        bars(b, variants, OrderedDict([("serving process", pick("serving_cpu_us")), ("with its consumer", pick("system_cpu_us"))]),
             "CPU µs per request", log=True)
        b.set_title("CPU per request (/proc utime+stime)")
        fig.suptitle(load, fontsize=8)
        fig.tight_layout()
        fig.savefig(f"{out}/closed_loop.png", dpi=110)

    opened = r.get("open") or []
    if opened:
        rates = list(OrderedDict.fromkeys(o["rate"] for o in opened))
        systems = list(OrderedDict.fromkeys(o["system"] for o in opened))
        fig, axes = plt.subplots(1, len(rates), figsize=(6 * len(rates), 5), squeeze=False)
        for ax, rate in zip(axes[0], rates):
            labels = ["HTTP p50", "HTTP p99", "e2e p50", "e2e p99"]
            keys = ["http_p50_ms", "http_p99_ms", "e2e_p50_ms", "e2e_p99_ms"]
            series = OrderedDict(
                (s, [[o[k] for o in opened if o["rate"] == rate and o["system"] == s] for k in keys]) for s in systems
            )
            bars(ax, labels, series, "ms from the scheduled send", log=True)
            ax.set_title(f"open loop at {rate:.0f} requests/s")
        fig.suptitle(load, fontsize=8)
        fig.tight_layout()
        fig.savefig(f"{out}/open_loop.png", dpi=110)

    drain = r.get("drain") or []
    if drain:
        fig, ax = plt.subplots(figsize=(8, 5))
        labels = ["worker (whole run)", "worker (steady)", "worker, logs warn (steady)", "sarama pipe (steady)",
                  "ConsumerPerformance", "ConsumerPerformance (fetch)"]
        keys = ["worker_records_per_s", "worker_steady_records_per_s", "worker_logs_warn_steady_records_per_s",
                "sarama_pipe_steady_records_per_s", "consumer_perf_records_per_s", "consumer_perf_fetch_records_per_s"]
        bars(ax, labels, OrderedDict(records_s=[[d[k] for d in drain] for k in keys]), "records/s")
        ax.set_title(f"draining {drain[0]['records']} records")
        fig.suptitle(load, fontsize=8)
        fig.tight_layout()
        fig.savefig(f"{out}/drain.png", dpi=110)


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])
