// Writes debug output to stdout, which is the channel to the manager.
#include "summit.h"

#include <cstdio>

int find_summit(int N) {
    printf("N = %d\n", N);
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
