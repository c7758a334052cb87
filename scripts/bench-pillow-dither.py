#!/usr/bin/env python3
"""Time tinkerbox's dither + ESC/POS encode beside Pillow and python-escpos.

    python3 scripts/bench-pillow-dither.py drivers/escpos/testdata/bench.png [-n RUNS] [--rounds N] [--no-go]

Prints one table of CPU ms per image (CPU time, not wall time: the build
machine is shared), each row measured in the same run, in interleaved
rounds (the median is shown, the spread beside it):

- go: BenchmarkDitherEncode384x1536 (drivers/escpos): grey conversion,
  Floyd-Steinberg, packing and the whole ESC/POS job, from the decoded
  image; its cpu-ms/op metric. Skipped without a Go toolchain (--no-go).
- pillow: Pillow's C convert('L').convert('1') (Floyd-Steinberg) and
  tobytes, from the decoded image: the dither alone, no printer stream.
- python-escpos: Dummy().image(img) to bytes, its default raster path
  (GS v 0), which inverts, dithers with Pillow and packs. Skipped when
  python-escpos is not importable: neither Debian 12 (bookworm) nor
  Debian 13 (trixie) packages it (python3-escpos is in neither archive),
  so on this project's machines the row is printed as absent.

A last line gives Pillow with PNG decoding, for reference.
"""
import argparse
import io
import os
import re
import shutil
import statistics
import subprocess
import sys
import time

try:
    from PIL import Image
except ImportError:
    sys.exit("bench-pillow-dither: Pillow is not installed (apt-get install python3-pil)")


def cpu_ms(fn, runs):
    """CPU ms per call of fn over runs calls, after one warm-up call."""
    fn()
    cpu0 = time.process_time()
    for _ in range(runs):
        fn()
    return (time.process_time() - cpu0) / runs * 1e3


def go_ms(pkg):
    """BenchmarkDitherEncode384x1536's cpu-ms/op, or None."""
    out = subprocess.run(
        ["go", "test", "-run", "^$", "-bench", "^BenchmarkDitherEncode384x1536$", "-benchtime", "200x", "."],
        cwd=pkg, capture_output=True, text=True)
    m = re.search(r"([0-9.]+) cpu-ms/op", out.stdout)
    if out.returncode != 0 or not m:
        print("bench-pillow-dither: go benchmark failed:\n" + out.stdout + out.stderr, file=sys.stderr)
        return None
    return float(m.group(1))


def escpos_fn(img):
    """A python-escpos image() job on a dummy printer, or None."""
    try:
        from escpos.printer import Dummy
    except ImportError:
        return None

    def job():
        p = Dummy()
        p.image(img)
        return p.output
    return job


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("image")
    ap.add_argument("-n", "--runs", type=int, default=200, help="calls per Python measurement")
    ap.add_argument("--rounds", type=int, default=3, help="interleaved rounds of every measurement")
    ap.add_argument("--no-go", action="store_true", help="skip the Go benchmark")
    args = ap.parse_args()

    with open(args.image, "rb") as f:
        data = f.read()
    img = Image.open(args.image)
    img.load()
    w, h = img.size

    def dither():
        return img.convert("L").convert("1").tobytes()

    def decode_and_dither():
        return Image.open(io.BytesIO(data)).convert("L").convert("1").tobytes()

    if len(dither()) != (w + 7) // 8 * h:
        sys.exit("bench-pillow-dither: unexpected packed size")

    pkg = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "drivers", "escpos")
    use_go = not args.no_go and shutil.which("go") and os.path.isdir(pkg)
    job = escpos_fn(img)
    rows = {"go": [], "pillow": [], "python-escpos": []}
    for _ in range(args.rounds):
        if use_go:
            v = go_ms(pkg)
            if v is not None:
                rows["go"].append(v)
        rows["pillow"].append(cpu_ms(dither, args.runs))
        if job:
            rows["python-escpos"].append(cpu_ms(job, max(1, args.runs // 10)))

    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print("dither + ESC/POS %dx%d, CPU ms per image (median of %d interleaved rounds; load %.1f on %d cores):"
          % (w, h, args.rounds, load, os.cpu_count() or 0))
    what = {
        "go": "tinkerbox: grey, Floyd-Steinberg, pack, encode (BenchmarkDitherEncode384x1536)",
        "pillow": "Pillow convert('L').convert('1').tobytes(): the dither alone",
        "python-escpos": "python-escpos Dummy().image(): its raster job",
    }
    pillow = statistics.median(rows["pillow"])
    for name, vals in rows.items():
        if not vals:
            why = {"go": "no Go toolchain or --no-go",
                   "python-escpos": "not importable (not packaged in Debian 12 or 13)"}[name]
            print("  %-14s %8s   %s: skipped, %s" % (name, "-", what[name], why))
            continue
        med = statistics.median(vals)
        print("  %-14s %8.2f   %.2fx Pillow  (%.2f..%.2f)  %s" % (name, med, med / pillow, min(vals), max(vals), what[name]))
    print("  pillow with PNG decoding: %.2f" % cpu_ms(decode_and_dither, max(1, args.runs // 4)))


if __name__ == "__main__":
    main()
