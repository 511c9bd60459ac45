#!/usr/bin/env python3
"""Where a page's burst goes, by function: a sampled CPU profile (Chrome DevTools Protocol) of one
workload on one bench target, its self time summed per function (JavaScript, and the runtime's
WebAssembly functions by index: the npm micropython.wasm carries no names).

    .venv/bin/python bench/profile_page.py mpy answers            # the demo page, 5,000 answers
    .venv/bin/python bench/profile_page.py pyfloor-mpy answers --events 2000
    .venv/bin/python bench/profile_page.py mpy-noreport answers --callers "wasm-function[82]"

Targets and workloads are bench/run.py's (progress is the harness's burst shape, posted the same
way as the others). One cold load, the profiler started once the page has listened for SETTLE_MS.
"""

import argparse
import collections
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run  # noqa: E402 (bench/run.py: the same servers, loads and workloads)
from playwright.sync_api import sync_playwright  # noqa: E402

POST_PROGRESS = """(n) => {
    harness.burstStartedAt = performance.timeOrigin + performance.now();
    for (let i = 0; i < n; i++) harness.post({type: 'course', event: 'progress',
        data: {progress: Math.floor((i + 1) * 100 / n), seq: i + 1}});
    return [harness.sent.length, harness.burstStartedAt];
}"""


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("target", help="a bench/run.py target: " + ", ".join(run.TARGETS))
    parser.add_argument("workload", help="progress, " + ", ".join(run.WORKLOADS))
    parser.add_argument("--events", type=int, default=5000)
    parser.add_argument("--top", type=int, default=25, help="functions to print (default 25)")
    parser.add_argument("--callers", action="append", default=[], help="also print who calls this function")
    args = parser.parse_args(argv)
    if args.target not in run.TARGETS:
        parser.error("unknown target %r" % args.target)
    if args.workload != "progress" and args.workload not in run.WORKLOADS:
        parser.error("unknown workload %r" % args.workload)
    proc, app = run.start_servers()
    try:
        with sync_playwright() as pw:
            launch = {"headless": True, "args": run.CHROMIUM_ARGS}
            if os.path.exists(run.CHROMIUM):
                launch["executable_path"] = run.CHROMIUM
            browser = pw.chromium.launch(**launch)
            notes = []
            load, frame = run.ready_load(browser, app, args.target, notes)
            cdp = load.context.new_cdp_session(load.page)
            cdp.send("Profiler.enable")
            cdp.send("Profiler.setSamplingInterval", {"interval": 200})  # microseconds
            before = load.accepted()
            cdp.send("Profiler.start")
            if args.workload == "progress":
                frame.evaluate(POST_PROGRESS, args.events)
            else:
                frame.evaluate(run.POST_WORKLOAD, [args.workload, args.events])
            load.wait_accepted(before + args.events, timeout_ms=180_000)
            load.page.wait_for_timeout(200)
            profile = cdp.send("Profiler.stop")["profile"]
            load.close()
            browser.close()
    finally:
        proc.stop()
    report(profile, args)
    return 0


def report(profile, args):
    nodes = {node["id"]: node for node in profile["nodes"]}
    parent = {child: node["id"] for node in profile["nodes"] for child in node.get("children", ())}
    self_us = collections.Counter()
    for sample, delta in zip(profile["samples"], profile["timeDeltas"], strict=True):
        self_us[sample] += delta

    def name(node_id):
        frame = nodes[node_id]["callFrame"]
        return frame["functionName"] or "(anonymous)", frame.get("url", "").rsplit("/", 1)[-1]

    by_function = collections.Counter()
    for node_id, us in self_us.items():
        by_function["%s %s" % name(node_id)] += us
    total = sum(by_function.values())
    print(
        "%s, %s, %s events: %.0f ms sampled (self time per function)"
        % (args.target, args.workload, f"{args.events:,}", total / 1000)
    )
    for function, us in by_function.most_common(args.top):
        print("%9.1f ms %5.1f%%  %s" % (us / 1000, 100 * us / total, function[:110]))
    for wanted in args.callers:
        chains = collections.Counter()
        for node_id, us in self_us.items():
            if name(node_id)[0] == wanted:
                chain, up = [], parent.get(node_id)
                while up is not None and len(chain) < 6:
                    chain.append(name(up)[0])
                    up = parent.get(up)
                chains[" < ".join(chain)] += us
        print("callers of %s:" % wanted)
        for chain, us in chains.most_common(6):
            print("%9.1f ms  %s" % (us / 1000, chain[:200]))


if __name__ == "__main__":
    sys.exit(main())
