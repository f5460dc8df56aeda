// The encoder is fine (fixed width); the decoder crashes with a segmentation fault.
#include "relay.h"

#include <vector>

void encode(int /*N*/, std::vector<int> P) {
    for (int x : P)
        for (int k = 0; k < 5; k++) transmit((x >> k) & 1);
}

std::vector<int> decode(int N, std::vector<int> bits) {
    volatile int* p = nullptr;
    if (N + (int)bits.size() > 0) *p = N;
    return std::vector<int>(N, 0);
}
