// Sends the rank with floor(log2(N!)) bits: loses the top bit of large ranks.
#include "relay.h"

#include <vector>

typedef unsigned long long ull;

static int bits_for(int n) {
    ull f = 1;
    for (int i = 2; i <= n; i++) f *= i;
    int b = 0;
    while (((ull)2 << b) <= f) b++;  // floor(log2(n!)), one too few unless n! is a power of 2
    return b;
}

void encode(int N, std::vector<int> P) {
    std::vector<bool> used(N, false);
    ull rank = 0;
    for (int i = 0; i < N; i++) {
        int smaller = 0;
        for (int v = 0; v < P[i]; v++)
            if (!used[v]) smaller++;
        used[P[i]] = true;
        rank = rank * (ull)(N - i) + (ull)smaller;
    }
    int b = bits_for(N);
    for (int k = 0; k < b; k++) transmit((int)((rank >> k) & 1));
}

std::vector<int> decode(int N, std::vector<int> bits) {
    ull rank = 0;
    for (int k = 0; k < (int)bits.size(); k++)
        if (bits[k]) rank |= (ull)1 << k;
    std::vector<int> digit(N);
    for (int i = N - 1; i >= 0; i--) {
        digit[i] = (int)(rank % (ull)(N - i));
        rank /= (ull)(N - i);
    }
    std::vector<bool> used(N, false);
    std::vector<int> P(N);
    for (int i = 0; i < N; i++) {
        int c = digit[i];
        for (int v = 0; v < N; v++) {
            if (used[v]) continue;
            if (c == 0) {
                P[i] = v;
                used[v] = true;
                break;
            }
            c--;
        }
    }
    return P;
}
