// The encoder burns CPU forever after the first bit.
#include "relay.h"

#include <vector>

void encode(int N, std::vector<int> P) {
    transmit(P[0] & 1);
    volatile unsigned long long spin = (unsigned long long)N;
    for (;;) spin = spin * 6364136223846793005ULL + 1;
}

std::vector<int> decode(int N, std::vector<int> bits) {
    return std::vector<int>(N, bits.empty() ? 0 : bits[0]);
}
