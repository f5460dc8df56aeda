// Binary search that discards the midpoint when the slope goes down: misses some summits.
#include "summit.h"

int find_summit(int N) {
    int lo = 0, hi = N - 1;
    while (lo < hi) {
        int m = lo + (hi - lo) / 2;
        if (altitude(m) < altitude(m + 1))
            lo = m + 1;
        else
            hi = m - 1;
    }
    return lo < 0 ? 0 : lo;
}
