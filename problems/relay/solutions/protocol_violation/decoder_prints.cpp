// Correct fixed-width scheme, but the decoder writes to stdout (the channel to the manager).
#include "relay.h"

#include <iostream>
#include <vector>

void encode(int /*N*/, std::vector<int> P) {
    for (int x : P)
        for (int k = 0; k < 5; k++) transmit((x >> k) & 1);
}

std::vector<int> decode(int N, std::vector<int> bits) {
    std::vector<int> P(N, 0);
    for (int i = 0; i < N; i++)
        for (int k = 0; k < 5; k++) P[i] |= bits[i * 5 + k] << k;
    std::cout << "decoded " << N << " values" << std::endl;
    return P;
}
