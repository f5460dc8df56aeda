// 0/1 knapsack DP over the capacity, O(N * W), with a table of choices to rebuild the set.
#include <cstdio>
#include <vector>

int main() {
  int n, W;
  if (scanf("%d %d", &n, &W) != 2) return 0;
  std::vector<int> w(n + 1);
  std::vector<long long> v(n + 1);
  for (int i = 1; i <= n; i++) scanf("%d %lld", &w[i], &v[i]);
  std::vector<long long> best(W + 1, 0);
  std::vector<std::vector<char>> take(n + 1, std::vector<char>(W + 1, 0));
  for (int i = 1; i <= n; i++)
    for (int c = W; c >= w[i]; c--)
      if (best[c - w[i]] + v[i] > best[c]) {
        best[c] = best[c - w[i]] + v[i];
        take[i][c] = 1;
      }
  std::vector<int> chosen;
  for (int i = n, c = W; i >= 1; i--)
    if (take[i][c]) {
      chosen.push_back(i);
      c -= w[i];
    }
  printf("%d\n", (int)chosen.size());
  for (int k = (int)chosen.size() - 1; k >= 0; k--) printf("%d%c", chosen[k], k ? ' ' : '\n');
  if (chosen.empty()) printf("\n");
  return 0;
}
