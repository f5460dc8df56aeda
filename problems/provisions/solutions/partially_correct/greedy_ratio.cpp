// Greedy: packs items by decreasing value per unit of weight while they fit. Always valid,
// usually not optimal.
#include <algorithm>
#include <cstdio>
#include <vector>

int main() {
  int n;
  long long W;
  if (scanf("%d %lld", &n, &W) != 2) return 0;
  std::vector<long long> w(n + 1), v(n + 1);
  for (int i = 1; i <= n; i++) scanf("%lld %lld", &w[i], &v[i]);
  std::vector<int> order(n);
  for (int i = 0; i < n; i++) order[i] = i + 1;
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return v[a] * w[b] > v[b] * w[a]; });
  std::vector<int> chosen;
  long long used = 0;
  for (int i : order)
    if (used + w[i] <= W) {
      used += w[i];
      chosen.push_back(i);
    }
  std::sort(chosen.begin(), chosen.end());
  printf("%d\n", (int)chosen.size());
  for (size_t k = 0; k < chosen.size(); k++) printf("%d ", chosen[k]);
  printf("\n");
  return 0;
}
