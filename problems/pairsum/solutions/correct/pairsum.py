# Scan right to left, remembering the last index of every value seen; prints the later
# index first.
import sys


def main():
    data = sys.stdin.buffer.read().split()
    n, S = int(data[0]), int(data[1])
    a = [int(x) for x in data[2:2 + n]]
    seen = {}
    for i in range(n - 1, -1, -1):
        j = seen.get(S - a[i])
        if j is not None:
            print(j + 1, i + 1)
            return
        seen.setdefault(a[i], i)
    print(-1)


main()
