# Greedy: packs the most valuable items first while they fit. Always valid, usually not
# optimal.
import sys


def main():
    data = sys.stdin.read().split()
    n, W = int(data[0]), int(data[1])
    w = [int(x) for x in data[2::2]]
    v = [int(x) for x in data[3::2]]
    order = sorted(range(n), key=lambda i: (-v[i], w[i], i))
    chosen, used = [], 0
    for i in order:
        if used + w[i] <= W:
            used += w[i]
            chosen.append(i + 1)
    print(len(chosen))
    print(" ".join(map(str, sorted(chosen))))


main()
