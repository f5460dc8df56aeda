// Fibonacci search: one new call per step, about 25 calls for N = 100000.
#include "summit.h"

#include <climits>
#include <map>
#include <vector>

int find_summit(int N) {
    std::map<int, long long> cache;
    auto val = [&](int i) -> long long {
        if (i >= N) return LLONG_MIN;  // padding keeps the profile unimodal
        auto it = cache.find(i);
        if (it != cache.end()) return it->second;
        long long v = altitude(i);
        cache[i] = v;
        return v;
    };
    std::vector<long long> F = {0, 1, 1};
    while (F.back() - 1 < N) F.push_back(F[F.size() - 1] + F[F.size() - 2]);
    int k = (int)F.size() - 1;  // search [a, a + F[k] - 2]
    int a = 0;
    while (k >= 4) {
        int x1 = a + (int)F[k - 2] - 1, x2 = a + (int)F[k - 1] - 1;
        if (val(x1) < val(x2)) a = x1 + 1;
        k--;
    }
    return a;
}
