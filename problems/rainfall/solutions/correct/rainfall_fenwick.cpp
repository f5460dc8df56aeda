// Fenwick tree: O((N + Q) log N). Slower than needed, still well within the limits.
#include <iostream>
#include <vector>

int main() {
  std::ios::sync_with_stdio(false);
  std::cin.tie(nullptr);
  int n, q;
  std::cin >> n >> q;
  std::vector<long long> bit(n + 1, 0);
  for (int i = 1; i <= n; i++) {
    long long a;
    std::cin >> a;
    for (int j = i; j <= n; j += j & -j) bit[j] += a;
  }
  auto prefix = [&](int i) {
    long long s = 0;
    for (; i > 0; i -= i & -i) s += bit[i];
    return s;
  };
  std::string out;
  for (int k = 0; k < q; k++) {
    int l, r;
    std::cin >> l >> r;
    out += std::to_string(prefix(r) - prefix(l - 1));
    out += '\n';
  }
  std::cout << out;
  return 0;
}
