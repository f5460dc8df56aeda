// Sort the indices by value, then two pointers from both ends: O(N log N).
#include <algorithm>
#include <cstdio>
#include <vector>

int main() {
  int n;
  long long S;
  if (scanf("%d %lld", &n, &S) != 2) return 0;
  std::vector<long long> a(n + 1);
  for (int i = 1; i <= n; i++) scanf("%lld", &a[i]);
  std::vector<int> idx(n);
  for (int i = 0; i < n; i++) idx[i] = i + 1;
  std::sort(idx.begin(), idx.end(), [&](int x, int y) { return a[x] < a[y] || (a[x] == a[y] && x < y); });
  int lo = 0, hi = n - 1;
  while (lo < hi) {
    long long s = a[idx[lo]] + a[idx[hi]];
    if (s == S) {
      int i = std::min(idx[lo], idx[hi]), j = std::max(idx[lo], idx[hi]);
      printf("%d %d\n", i, j);
      return 0;
    }
    if (s < S) lo++;
    else hi--;
  }
  printf("-1\n");
  return 0;
}
