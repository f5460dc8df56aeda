// Prefix sums in a bounds-checked table sized for N <= 2000 only: on larger inputs
// std::vector::at throws std::out_of_range and the program aborts.
#include <cstdio>
#include <vector>

const int MAXN = 2000;

int main() {
  int n, q;
  if (scanf("%d %d", &n, &q) != 2) return 0;
  std::vector<long long> pre(MAXN + 1, 0);
  for (int i = 1; i <= n; i++) {
    long long a;
    scanf("%lld", &a);
    pre.at(i) = pre.at(i - 1) + a;
  }
  for (int k = 0; k < q; k++) {
    int l, r;
    scanf("%d %d", &l, &r);
    printf("%lld\n", pre.at(r) - pre.at(l - 1));
  }
  return 0;
}
