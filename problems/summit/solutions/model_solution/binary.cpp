// Binary search on the slope: 2 calls per halving, at most 34 calls for N = 100000.
#include "summit.h"

int find_summit(int N) {
    int lo = 0, hi = N - 1;
    while (lo < hi) {
        int m = lo + (hi - lo) / 2;
        if (altitude(m) < altitude(m + 1))
            lo = m + 1;
        else
            hi = m;
    }
    return lo;
}
