// Prints malformed or wrong output, a different kind depending on the input, to exercise
// the checker: none of it may be accepted, and the checker must not crash on any of it.
#include <cstdio>

int main() {
  long long n, S;
  if (scanf("%lld %lld", &n, &S) != 2) return 0;
  long long h = 0, x;
  for (long long i = 0; i < n && scanf("%lld", &x) == 1; i++) h = (h * 14 + x) % 1000003;
  switch ((n + S + h) % 10) {
    case 0: printf("hello world\n"); break;               // not a number
    case 1: printf("1 2 3\n"); break;                     // extra token
    case 2: printf("0 %lld\n", n + 1); break;             // out of range
    case 3: break;                                        // empty output
    case 4: printf("99999999999999999999999999 1\n"); break;  // overflowing number
    case 5: printf("1.5 2\n"); break;                     // not an integer
    case 6: printf("-1 -1\n"); break;                     // -1 with extra token
    case 7: printf("1 1\n"); break;                       // equal indices
    case 8: printf("\x01\xff\xfe garbage\n"); break;      // binary junk
    default: printf("%lld\n", n); break;                  // one lonely index
  }
  return 0;
}
