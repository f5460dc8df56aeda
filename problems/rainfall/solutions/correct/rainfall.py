import sys
from itertools import accumulate


def main():
    data = sys.stdin.buffer.read().split()
    n, q = int(data[0]), int(data[1])
    pre = [0]
    pre.extend(accumulate(map(int, data[2:2 + n])))
    qs = data[2 + n:2 + n + 2 * q]
    out = [pre[int(r)] - pre[int(l) - 1] for l, r in zip(qs[0::2], qs[1::2])]
    sys.stdout.write("\n".join(map(str, out)) + "\n")


main()
