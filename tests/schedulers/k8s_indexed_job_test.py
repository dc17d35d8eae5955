#!/usr/bin/env python3
"""The Kubernetes Indexed Job of tools/schedulers/k8s-scan-job.yaml without a cluster (none
ships with Debian): checks the manifest's shape, then runs the scan container's command once
per completion index the way the kubelet would (each $(VAR) expanded from the container's
environment and JOB_COMPLETION_INDEX, every volume mounted at its mountPath mapped to a local
directory), all into one SQLite outbox, and compares it with one unsharded scan.

usage: k8s_indexed_job_test.py BONAFIDE GENERATE_LISTINGS SOURCE_DIR
"""
import os
import re
import subprocess
import sys
import tempfile

import yaml


def fail(message):
    sys.exit(f"k8s test: FAILED: {message}")


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    bonafide, generate, src = (os.path.abspath(a) for a in sys.argv[1:])
    with open(os.path.join(src, "tools/schedulers/k8s-scan-job.yaml")) as f:
        job = yaml.safe_load(f)

    spec = job["spec"]
    if job["kind"] != "Job" or spec.get("completionMode") != "Indexed":
        fail("not an Indexed Job")
    pod = spec["template"]["spec"]
    if pod.get("restartPolicy") != "Never":
        fail("podFailurePolicy and backoffLimitPerIndex need restartPolicy: Never")
    (container,) = pod["containers"]
    env = {e["name"]: e.get("value") for e in container["env"]}
    if int(env["BONAFIDE_SHARDS"]) != spec["completions"]:
        fail(f"BONAFIDE_SHARDS {env['BONAFIDE_SHARDS']} != completions {spec['completions']}")
    exit_codes = spec["podFailurePolicy"]["rules"][0]["onExitCodes"]
    if exit_codes["containerName"] != container["name"] or exit_codes["values"] != [2]:
        fail("a usage or rules error (exit 2) must fail the Job, for this container")

    with tempfile.TemporaryDirectory(prefix="bonafide-k8s-test.") as tmp:
        # Volumes: the rules are the bundled examples; the dump is generated.
        mounts = {m["name"]: m["mountPath"] for m in container["volumeMounts"]}
        local = {name: os.path.join(tmp, name) for name in mounts}
        local["rules"] = os.path.join(src, "examples/rules")
        for name, path in local.items():
            os.makedirs(path, exist_ok=True)
        inputs = [a for a in container["args"] if a.startswith(mounts["dumps"] + "/")]
        if len(inputs) != 1:
            fail(f"expected one input under {mounts['dumps']}, got {inputs}")
        dump = os.path.join(local["dumps"], os.path.relpath(inputs[0], mounts["dumps"]))
        plain = os.path.join(tmp, "listings.jsonl")
        subprocess.run([generate, "--rules", local["rules"], "--count", "8000", "--seed", "8",
                        "--nosummary", "--out", plain], check=True)
        subprocess.run(["zstd", "-q", "-f", plain, "-o", dump], check=True)

        reference = os.path.join(tmp, "reference.db")
        subprocess.run([bonafide, "scan", "--rules", local["rules"], "--outbox", reference,
                        "--rejects", "", "--cache-dir", "", dump],
                       check=True, stdout=subprocess.DEVNULL)

        env["BONAFIDE_OUTBOX"] = os.path.join(tmp, "sharded.db")  # the Secret's URI
        shards = spec["completions"]
        for index in range(shards):
            values = dict(env, JOB_COMPLETION_INDEX=str(index))
            args = []
            for arg in container["command"][1:] + container["args"]:
                arg = re.sub(r"\$\((\w+)\)", lambda m: values[m.group(1)], arg)
                for name, path in mounts.items():  # volume paths to local directories
                    arg = re.sub(rf"(^|=){re.escape(path)}(?=/|$)", rf"\g<1>{local[name]}", arg)
                args.append(arg)
            done = subprocess.run([bonafide, *args], capture_output=True, text=True)
            if done.returncode != 0:
                fail(f"index {index}: exit {done.returncode}: {done.stderr.strip()}")
            if f"(this is shard {index}/{shards})" not in done.stdout:
                fail(f"index {index} did not scan shard {index}/{shards}:\n{done.stdout}")
        rejects = sorted(os.listdir(local["rejects"]))
        if len(rejects) != shards:
            fail(f"expected {shards} rejects files, got {rejects}")
        compare = os.path.join(src, "tests/schedulers/compare_outboxes.py")
        if subprocess.run([sys.executable, compare, bonafide, reference,
                           env["BONAFIDE_OUTBOX"]]).returncode != 0:
            fail("the Job's outbox differs from the unsharded scan's")
    print(f"k8s test: passed ({shards} indexes)")


if __name__ == "__main__":
    main()
