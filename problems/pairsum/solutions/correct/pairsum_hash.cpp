// Scan left to right, remembering the first index of every value seen: the first j whose
// complement S - a[j] appeared before. Prints the later index first ("j i").
#include <cstdio>
#include <unordered_map>
#include <vector>

int main() {
  int n;
  long long S;
  if (scanf("%d %lld", &n, &S) != 2) return 0;
  std::vector<long long> a(n + 1);
  for (int i = 1; i <= n; i++) scanf("%lld", &a[i]);
  std::unordered_map<long long, int> first;
  first.reserve(2 * n + 1);
  for (int j = 1; j <= n; j++) {
    auto it = first.find(S - a[j]);
    if (it != first.end()) {
      printf("%d %d\n", j, it->second);
      return 0;
    }
    first.emplace(a[j], j);
  }
  printf("-1\n");
  return 0;
}
