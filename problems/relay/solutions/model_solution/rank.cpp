// Sends the lexicographic rank of P (a number below N!) in exactly ceil(log2(N!)) bits:
// 62 bits for N = 20.
#include "relay.h"

#include <vector>

typedef unsigned long long ull;

static int bits_for(int n) {  // smallest b with 2^b >= n!
    ull f = 1;
    for (int i = 2; i <= n; i++) f *= i;
    int b = 0;
    while (b < 63 && ((ull)1 << b) < f) b++;
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
    for (int i = N - 1; i >= 0; i--) {  // digit i has base N - i
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
