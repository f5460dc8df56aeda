// Sample grader for "towers".
// Input:  line 1: N; line 2: H[0] H[1] ... H[N-1]
// Output: one line with the N values returned by relay, separated by spaces.
#include "towers.h"

#include <cassert>
#include <cstdio>
#include <vector>

int main() {
  int N;
  assert(1 == scanf("%d", &N));
  std::vector<int> H(N);
  for (int i = 0; i < N; i++) assert(1 == scanf("%d", &H[i]));
  fclose(stdin);

  std::vector<int> R = relay(H);

  for (size_t i = 0; i < R.size(); i++) {
    if (i > 0) putchar(' ');
    printf("%d", R[i]);
  }
  printf("\n");
  fclose(stdout);
  return 0;
}
