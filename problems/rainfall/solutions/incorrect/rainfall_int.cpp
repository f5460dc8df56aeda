// Prefix sums kept in 32-bit int: overflows once a range total exceeds 2^31 - 1.
#include <cstdio>
#include <vector>

int main() {
  int n, q;
  if (scanf("%d %d", &n, &q) != 2) return 0;
  std::vector<int> pre(n + 1, 0);
  for (int i = 1; i <= n; i++) {
    int a;
    scanf("%d", &a);
    pre[i] = (int)((unsigned)pre[i - 1] + (unsigned)a);  // wraps like a plain int sum would
  }
  for (int k = 0; k < q; k++) {
    int l, r;
    scanf("%d %d", &l, &r);
    printf("%d\n", (int)((unsigned)pre[r] - (unsigned)pre[l - 1]));
  }
  return 0;
}
