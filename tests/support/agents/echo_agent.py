#!/usr/bin/env python3
"""A small external agent for the tests: reads the task (JSON) on stdin, answers on stdout.

task_data keys it understands:
  fail_attempts: N   fail (exit 2, reason on stderr) on attempts 1..N
  sleep_s: S         sleep S seconds first (to run past a deadline)
Anything else is echoed back with the attempt number and the word count of `text`.
"""
import json
import sys
import time

task = json.load(sys.stdin)
data = task.get("task_data", {})
attempt = task.get("attempt", 1)
if attempt <= data.get("fail_attempts", 0):
    print(f"attempt {attempt}: upstream model unavailable", file=sys.stderr)
    sys.exit(2)
time.sleep(data.get("sleep_s", 0))
json.dump({"task_id": task["task_id"], "attempt": attempt,
           "words": len(str(data.get("text", "")).split())}, sys.stdout)
