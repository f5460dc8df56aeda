// Compares with position i + 1 even at the right end: altitude(N) is an invalid call.
#include "summit.h"

int find_summit(int N) {
    int lo = 0, hi = N;
    while (lo < hi) {
        int m = lo + (hi - lo) / 2;
        if (altitude(m) < altitude(m + 1))
            lo = m + 1;
        else
            hi = m;
    }
    return lo;
}
