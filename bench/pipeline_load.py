#!/usr/bin/env python3
"""The standard pipeline under load on real Kafka: `agentstream demo` (config/pipeline.yaml:
its routes, domain processors and agents, fed by the simulator) pinned to one CPU, the broker
on another, at each rate given. Per rate it prints what the demo's summary measured (the rate
drawn, router and end-to-end latency percentiles) and what the process cost: CPU seconds per
generated event, the most threads it had, its peak RSS.

    bench/pipeline_load.py --brokers 127.0.0.1:19092 --cpu 0 --duration 30s 250 500 1000

The broker is started by the caller (scripts/kafka.sh start --cpus 1; with --fresh-broker it is
restarted, empty, before each rate, KAFKA_RUN_DIR as the caller's). Exits non-zero when a run
failed or generated nothing.
"""
import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def threads_of(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("Threads:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def broker_cpu_s():
    """CPU seconds the broker nodes of scripts/kafka.sh have used so far (None: not found)."""
    run_dir = os.environ.get("KAFKA_RUN_DIR", os.path.join(ROOT, ".cache", "kafka-run"))
    total, found = 0.0, False
    tick = os.sysconf("SC_CLK_TCK")
    for node in sorted(os.listdir(run_dir)) if os.path.isdir(run_dir) else []:
        try:
            with open(os.path.join(run_dir, node, "pid")) as f:
                pid = int(f.read().strip())
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / tick  # utime, stime
            found = True
        except (OSError, ValueError):
            continue
    return total if found else None


def run(binary, brokers, cpu, duration, rate, config):
    with tempfile.TemporaryDirectory() as tmp:
        summary_file = os.path.join(tmp, "summary.json")
        cmd = ["taskset", "-c", str(cpu), binary, "--brokers", brokers,
               "--config", config, "demo",
               "--duration", duration, "--rate", str(rate), "--http-port", "0",
               "--summary-json", summary_file]
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        broker_before = broker_cpu_s()
        started = time.monotonic()
        # Its log goes to a file: a pipe nobody reads until the end fills up (64 KiB) and blocks
        # the process at its next log line (the runs at 500/s and more "did not finish").
        log_path = os.path.join(tmp, "stderr.log")
        with open(log_path, "w") as log:
            proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=log)
            most_threads = 0
            while proc.poll() is None:
                most_threads = max(most_threads, threads_of(proc.pid))
                time.sleep(0.5)
        with open(log_path, errors="replace") as log:
            stderr = log.read()
        wall = time.monotonic() - started
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        broker_after = broker_cpu_s()
        if proc.returncode != 0 or not os.path.exists(summary_file):
            sys.stderr.write(stderr[-2000:])
            return None
        with open(summary_file) as f:
            s = json.load(f)
    cpu_s = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    generated = s["generated"]["total"]
    return {
        "rate": rate,
        "drawn_per_s": s["rate"]["achieved"],
        "generated": generated,
        "router_consumed": s["processed"]["router"]["consumed"],
        "router_p99_ms": s["latency_ms"]["router"]["p99"],
        "e2e_p50_ms": s["latency_ms"]["end_to_end"]["p50"],
        "e2e_p99_ms": s["latency_ms"]["end_to_end"]["p99"],
        "cpu_s": cpu_s,
        "wall_s": wall,
        "cpu_ms_per_event": 1000.0 * cpu_s / generated if generated else float("nan"),
        "threads": most_threads,
        "max_rss_mib": after.ru_maxrss / 1024.0,  # the largest child so far (Linux: KiB)
        # Over the whole run (start, load, drain): the broker's share of its core.
        "broker_core_pct": (100.0 * (broker_after - broker_before) / wall
                            if broker_before is not None and broker_after is not None
                            else float("nan")),
    }


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--brokers", required=True)
    p.add_argument("--cpu", type=int, default=0, help="the CPU agentstream runs on")
    p.add_argument("--duration", default="30s")
    p.add_argument("--binary", default=os.path.join(ROOT, "build/apps/agentstream/agentstream"))
    p.add_argument("--config", default=os.path.join(ROOT, "config", "pipeline.yaml"),
                   help="the pipeline file (a variant with other client settings, say)")
    p.add_argument("--json", action="store_true", help="one JSON object per rate")
    p.add_argument("--fresh-broker", action="store_true",
                   help="restart the broker (scripts/kafka.sh stop, start --cpus 1) before each "
                        "rate, so that no run reads what an earlier one left")
    p.add_argument("--warmup", default="",
                   help="before each measured run, a discarded one this long at the same rate "
                        "(a fresh broker's JVM compiles its hot paths in its first minute, "
                        "which otherwise lands in the first run's percentiles)")
    p.add_argument("rates", nargs="+", type=float)
    a = p.parse_args()
    kafka_sh = os.path.join(ROOT, "scripts", "kafka.sh")
    ok = True
    if not a.json:
        print(f"{'rate':>6} {'drawn/s':>8} {'generated':>9} {'router p99':>10} {'e2e p50':>8} "
              f"{'e2e p99':>8} {'CPU ms/ev':>9} {'core %':>6} {'broker %':>8} {'threads':>7} "
              f"{'RSS MiB':>7}")
    for rate in a.rates:
        if a.fresh_broker:
            subprocess.run([kafka_sh, "stop"], check=True, stdout=subprocess.DEVNULL)
            subprocess.run([kafka_sh, "start", "--cpus", "1"], check=True,
                           stdout=subprocess.DEVNULL)
        if a.warmup:
            run(a.binary, a.brokers, a.cpu, a.warmup, rate, a.config)
        r = run(a.binary, a.brokers, a.cpu, a.duration, rate, a.config)
        if r is None or r["generated"] == 0:
            print(f"rate {rate:g}: the run failed", file=sys.stderr)
            ok = False
            continue
        if a.json:
            print(json.dumps(r))
        else:
            print(f"{rate:>6g} {r['drawn_per_s']:>8.1f} {r['generated']:>9} "
                  f"{r['router_p99_ms']:>8.1f}ms {r['e2e_p50_ms']:>6.1f}ms "
                  f"{r['e2e_p99_ms']:>6.0f}ms {r['cpu_ms_per_event']:>9.3f} "
                  f"{100 * r['cpu_s'] / r['wall_s']:>6.0f} {r['broker_core_pct']:>8.0f} "
                  f"{r['threads']:>7} "
                  f"{r['max_rss_mib']:>7.0f}", flush=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
