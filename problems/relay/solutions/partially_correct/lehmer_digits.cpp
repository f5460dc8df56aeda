// Sends each Lehmer digit separately with ceil(log2(N - i)) bits: 69 bits for N = 20.
#include "relay.h"

#include <vector>

static int width(int base) {  // bits needed for a value in [0, base)
    int w = 0;
    while ((1 << w) < base) w++;
    return w;
}

void encode(int N, std::vector<int> P) {
    std::vector<bool> used(N, false);
    for (int i = 0; i < N; i++) {
        int d = 0;
        for (int v = 0; v < P[i]; v++)
            if (!used[v]) d++;
        used[P[i]] = true;
        int w = width(N - i);
        for (int k = 0; k < w; k++) transmit((d >> k) & 1);
    }
}

std::vector<int> decode(int N, std::vector<int> bits) {
    std::vector<bool> used(N, false);
    std::vector<int> P(N);
    int pos = 0;
    for (int i = 0; i < N; i++) {
        int w = width(N - i), d = 0;
        for (int k = 0; k < w; k++) d |= bits[pos++] << k;
        for (int v = 0; v < N; v++) {
            if (used[v]) continue;
            if (d == 0) {
                P[i] = v;
                used[v] = true;
                break;
            }
            d--;
        }
    }
    return P;
}
