#include <vector>

void encode(int N, std::vector<int> P);
void transmit(int bit);

std::vector<int> decode(int N, std::vector<int> bits);
