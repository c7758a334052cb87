#!/usr/bin/env python3
"""Time Pillow's C Floyd-Steinberg dither on an image, for comparison with
tinkerbox's BenchmarkDitherEncode384x1536 (drivers/escpos).

    python3 scripts/bench-pillow-dither.py drivers/escpos/testdata/bench.png [-n RUNS]

Prints e.g. "pillow floyd-steinberg 384x1536: 3.21 ms/op". The main figure
starts from the decoded image, like the Go benchmark: convert('L'),
convert('1') (Floyd-Steinberg by default) and packing to bytes (tobytes, MSB
first, as ESC/POS wants, though Pillow's 1 bit means white). A second line
includes PNG decoding. Also reports CPU time per op, since wall time is
unreliable on a shared machine.
"""
import argparse
import sys
import time

try:
    from PIL import Image
except ImportError:
    sys.exit("bench-pillow-dither: Pillow is not installed (apt-get install python3-pil)")


def bench(fn, runs):
    fn()  # warm up
    wall0, cpu0 = time.perf_counter(), time.process_time()
    for _ in range(runs):
        fn()
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    return wall / runs * 1e3, cpu / runs * 1e3


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("image")
    ap.add_argument("-n", "--runs", type=int, default=200)
    args = ap.parse_args()

    with open(args.image, "rb") as f:
        data = f.read()
    img = Image.open(args.image)
    img.load()
    w, h = img.size

    def dither():
        return img.convert("L").convert("1").tobytes()

    def decode_and_dither():
        import io
        return Image.open(io.BytesIO(data)).convert("L").convert("1").tobytes()

    packed = dither()
    if len(packed) != (w + 7) // 8 * h:
        sys.exit("bench-pillow-dither: unexpected packed size %d" % len(packed))

    wall, cpu = bench(dither, args.runs)
    print("pillow floyd-steinberg %dx%d: %.2f ms/op (cpu %.2f ms/op, %d runs)" % (w, h, wall, cpu, args.runs))
    wall, cpu = bench(decode_and_dither, max(1, args.runs // 4))
    print("pillow png-decode+floyd-steinberg %dx%d: %.2f ms/op (cpu %.2f ms/op)" % (w, h, wall, cpu))


if __name__ == "__main__":
    main()
