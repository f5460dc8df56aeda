// Precomputes the answer of every pair (l, r): O(N^2) memory, built row by row, so the
// memory in use grows steadily (about 40 GB for N = 100000) far past the limit.
#include <cstdio>
#include <vector>

int main() {
  int n, q;
  if (scanf("%d %d", &n, &q) != 2) return 0;
  std::vector<long long> a(n + 1);
  for (int i = 1; i <= n; i++) scanf("%lld", &a[i]);
  // table[l][k] = a[l] + ... + a[l + k]
  std::vector<std::vector<long long>> table(n + 1);
  for (int l = 1; l <= n; l++) {
    table[l].resize(n - l + 1);
    long long s = 0;
    for (int k = 0; l + k <= n; k++) {
      s += a[l + k];
      table[l][k] = s;
    }
  }
  for (int k = 0; k < q; k++) {
    int l, r;
    scanf("%d %d", &l, &r);
    printf("%lld\n", table[l][r - l]);
  }
  return 0;
}
