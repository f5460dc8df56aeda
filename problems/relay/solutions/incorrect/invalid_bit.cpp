// Transmits whole values instead of bits: transmit(2) is an invalid call.
#include "relay.h"

#include <vector>

void encode(int N, std::vector<int> P) {
    for (int i = 0; i < N; i++) transmit(P[i]);
}

std::vector<int> decode(int N, std::vector<int> bits) {
    std::vector<int> P(bits.begin(), bits.end());
    P.resize(N);
    return P;
}
