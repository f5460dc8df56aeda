// Sends every element with ceil(log2(N)) bits: 24 bits for N = 8, 100 bits for N = 20.
#include "relay.h"

#include <vector>

static int width(int n) {
    int w = 0;
    while ((1 << w) < n) w++;
    return w;
}

void encode(int N, std::vector<int> P) {
    int w = width(N);
    for (int x : P)
        for (int k = 0; k < w; k++) transmit((x >> k) & 1);
}

std::vector<int> decode(int N, std::vector<int> bits) {
    int w = width(N);
    std::vector<int> P(N, 0);
    for (int i = 0; i < N; i++)
        for (int k = 0; k < w; k++) P[i] |= bits[i * w + k] << k;
    return P;
}
