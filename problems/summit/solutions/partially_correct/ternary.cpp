// Ternary search without reusing values: about 60 calls for N = 100000 (partial score).
#include "summit.h"

int find_summit(int N) {
    int lo = 0, hi = N - 1;
    while (hi - lo > 2) {
        int m1 = lo + (hi - lo) / 3, m2 = hi - (hi - lo) / 3;
        if (altitude(m1) < altitude(m2))
            lo = m1 + 1;
        else
            hi = m2 - 1;
    }
    int best = lo;
    int bv = altitude(lo);
    for (int i = lo + 1; i <= hi; i++) {
        int v = altitude(i);
        if (v > bv) bv = v, best = i;
    }
    return best;
}
