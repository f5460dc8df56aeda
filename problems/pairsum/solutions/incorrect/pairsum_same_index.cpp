// Looks up the complement of every a[i] among all values, but forgets that the complement
// must sit at another index: when S = 2 * a[i] and that value occurs once, prints "i i".
#include <cstdio>
#include <unordered_map>
#include <vector>

int main() {
  int n;
  long long S;
  if (scanf("%d %lld", &n, &S) != 2) return 0;
  std::vector<long long> a(n + 1);
  std::unordered_map<long long, int> where;
  for (int i = 1; i <= n; i++) {
    scanf("%lld", &a[i]);
    where[a[i]] = i;  // last index of each value
  }
  for (int i = 1; i <= n; i++) {
    auto it = where.find(S - a[i]);
    if (it != where.end()) {
      printf("%d %d\n", i, it->second);
      return 0;
    }
  }
  printf("-1\n");
  return 0;
}
