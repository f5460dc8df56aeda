// Asks one question, then burns CPU forever.
#include "summit.h"

int find_summit(int N) {
    volatile unsigned long long spin = (unsigned long long)altitude(N / 2);
    for (;;) spin = spin * 6364136223846793005ULL + 1;
    return 0;
}
