// Another optimal encoding: the mixed-radix number of "how many later elements are smaller",
// most significant bit first, with the bit count computed from the smallest power of two >= N!.
#include "relay.h"

#include <vector>

typedef unsigned long long ull;

static int needed_bits(int n) {
    ull f = 1;
    for (int i = 2; i <= n; i++) f *= i;
    int b = 0;
    ull p = 1;
    while (p < f) {
        p <<= 1;
        b++;
    }
    return b;
}

void encode(int N, std::vector<int> P) {
    ull code = 0;
    for (int i = 0; i < N; i++) {
        int later_smaller = 0;
        for (int j = i + 1; j < N; j++)
            if (P[j] < P[i]) later_smaller++;
        code = code * (ull)(N - i) + (ull)later_smaller;
    }
    int b = needed_bits(N);
    for (int k = b - 1; k >= 0; k--) transmit((int)((code >> k) & 1));
}

std::vector<int> decode(int N, std::vector<int> bits) {
    ull code = 0;
    for (int x : bits) code = code * 2 + (ull)x;
    std::vector<int> c(N);
    for (int i = N - 1; i >= 0; i--) {
        c[i] = (int)(code % (ull)(N - i));
        code /= (ull)(N - i);
    }
    std::vector<int> pool;
    for (int v = 0; v < N; v++) pool.push_back(v);
    std::vector<int> P(N);
    for (int i = 0; i < N; i++) {
        P[i] = pool[c[i]];
        pool.erase(pool.begin() + c[i]);
    }
    return P;
}
