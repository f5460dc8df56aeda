# Sample grader for "towers" (Python).
# Input:  line 1: N; line 2: H[0] H[1] ... H[N-1]
# Output: one line with the N values returned by relay, separated by spaces.
import sys

from towers import relay


def main():
    data = sys.stdin.buffer.read().split()
    n = int(data[0])
    H = [int(x) for x in data[1:1 + n]]
    assert len(H) == n
    R = relay(H)
    sys.stdout.write(" ".join(str(int(x)) for x in R) + "\n")


main()
