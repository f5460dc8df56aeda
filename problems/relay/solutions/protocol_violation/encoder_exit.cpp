// The encoder calls exit() after sending its bits for the first scenario.
#include "relay.h"

#include <cstdlib>
#include <vector>

void encode(int /*N*/, std::vector<int> P) {
    for (int x : P)
        for (int k = 0; k < 5; k++) transmit((x >> k) & 1);
    exit(0);
}

std::vector<int> decode(int N, std::vector<int> bits) {
    std::vector<int> P(N, 0);
    for (int i = 0; i < N; i++)
        for (int k = 0; k < 5; k++) P[i] |= bits[i * 5 + k] << k;
    return P;
}
